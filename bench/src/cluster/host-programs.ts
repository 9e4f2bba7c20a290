/**
 * taskqueue on one "host": the real dispatcher and pool (echo plugin, K children, prefetch W)
 * started inside the host's namespace as bench/src/systems.ts starts them (their systemd units'
 * NODE_OPTIONS, logs to files), with a config whose `urls` name the host's own node first and
 * the other nodes after it, and quorum queues.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childrenOf, commandLine } from '../proc-sampler.js';
import { adopt, Launched } from '../processes.js';
import { TASKQUEUE_DIR, workerpoolSection } from '../systems.js';
import { TYPE } from '../workitem.js';
import { type Host, inHost } from './network.js';

/** What identifies a taskqueue worker child in /proc/PID/cmdline (as systems.ts). */
const CHILD_ENTRY = 'workerpool/child/main.js';

export interface HostPrograms {
  host: Host;
  dispatcher: Launched;
  pool: Launched;
  /** Known once the pool has started them (see childPids). */
  children: number[];
}

/** The environment of a taskqueue program as its unit gives it (systems.ts does the same). */
function unitEnvironment(unit: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TASKQUEUE_LOG_PRETTY: '0' };
  delete env.TASKQUEUE_AMQP_URL; // the config names the brokers
  const text = readFileSync(join(TASKQUEUE_DIR, 'systemd', unit), 'utf8');
  const fromUnit = /^Environment=NODE_OPTIONS=(.*)$/m.exec(text)?.[1]?.trim();
  const options = [fromUnit ?? '', process.env.BENCH_NODE_OPTIONS ?? ''].join(' ').trim();
  if (options) env.NODE_OPTIONS = options;
  return env;
}

export function hostConfig(urls: string[], k: number, w: number): string {
  return `[amqp]
urls = ${urls.join(', ')}
queue_type = quorum
connect_retries = 5

[dispatcher]
prefetch = 100

${workerpoolSection()}
[${TYPE}]
workers = ${k}
prefetch = ${w}
`;
}

export function startHostPrograms(
  host: Host,
  urls: string[],
  k: number,
  w: number,
  workDir: string,
  tag: string,
): HostPrograms {
  const config = join(workDir, `${tag}.${host.ns}.ini`);
  writeFileSync(config, hostConfig(urls, k, w));
  const launch = (role: string, program: string, unit: string) =>
    new Launched(
      `${host.ns}.${role}`,
      'ip',
      [
        ...inHost(host),
        process.execPath,
        join(TASKQUEUE_DIR, `dist/${program}/main.js`),
        '-c',
        config,
      ],
      join(workDir, `${tag}.${host.ns}.${role}.log`),
      unitEnvironment(unit),
    );
  return {
    host,
    dispatcher: launch('dispatcher', 'dispatcher', 'taskqueue-dispatcher.service'),
    pool: launch('pool', 'workerpool', 'taskqueue-workerpool.service'),
    children: [],
  };
}

/** The pool's children, once they consume; adopted so that the last resort kills them too. */
export function findChildren(programs: HostPrograms): number[] {
  programs.children = childrenOf(programs.pool.pid)
    .filter((pid) => commandLine(pid).includes(CHILD_ENTRY))
    .sort((a, b) => a - b);
  for (const pid of programs.children) adopt(pid, CHILD_ENTRY);
  return programs.children;
}
