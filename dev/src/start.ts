#!/usr/bin/env node
/**
 * `npm start`: the whole stack on this machine — a private RabbitMQ node (unless
 * TASKQUEUE_AMQP_URL names a broker), the dispatcher, the pool with the example plugins, the
 * HTTP API with tracking on — and a few example tasks a second, printed as they flow. Ctrl-C
 * stops everything it started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import amqp, { type ConsumeMessage } from 'amqplib';
import {
  NOT_BEFORE_HEADER,
  WORKER_PID_HEADER,
  WORKER_TYPE_HEADER,
} from '../../dist/common/amqp/wire.js';
import { ExitStatus } from '../../dist/common/exit.js';
import { RabbitNode } from './rabbitmq-node.js';
import { type Stage, stageIfUnreadable } from './stage.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const WORK_DIR = join(ROOT, '.tq-dev');
/** Where the programs and plugins run from: ROOT, or its staged copy (stage.ts). */
let RUN_ROOT = ROOT;
const TASKS_PER_SECOND = 2;
/** Every DELAYED_EVERY-th demo task waits DELAY_MS in the broker's delay ladder (docs/delays.md). */
const DELAYED_EVERY = 10;
const DELAY_MS = 15_000;
const STOP_TIMEOUT_MS = 15_000;

const say = (line: string) => process.stdout.write(`${line}\n`);

/** A status socket in .tq-dev (`taskqueue status -c .tq-dev/config.ini`); none past sun_path's 107 bytes. */
function devSocket(name: string): string {
  const path = join(WORK_DIR, `${name}.sock`);
  return Buffer.byteLength(path) <= 107 ? path : '';
}

/**
 * The API's tokens file: one operate token nobody is shown (loopback needs none here), mode
 * 0600 as the daemon demands.
 */
function devTokens(): string {
  const file = join(WORK_DIR, 'api.tokens');
  writeFileSync(file, `dev operate ${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  return file;
}

function devConfig(url: string): string {
  return `; written by npm start
[amqp]
url = ${url}

[tracking]
enabled = yes

[api]
; any free port: npm start says which
listen = 127.0.0.1:0
loopback_without_token = yes
tokens_file = ${devTokens()}
store = ${join(WORK_DIR, 'tasks.db')}

[dispatcher]
status_socket = ${devSocket('dispatcher')}

[workerpool]
plugin_paths = ${join(RUN_ROOT, 'node_modules')}
shutdown_timeout = 5
status_socket = ${devSocket('workerpool')}

[echo]
workers = 2

[shell]
workers = 1
command = ${process.execPath} ${join(RUN_ROOT, 'plugins/shell/examples/shout.mjs')}
`;
}

/**
 * What of a daemon's log the terminal shows: errors (a group refused or failed, a child that
 * cannot start), a paused group, and any line that is not JSON (a crash's stack). The rest
 * goes to the log file alone.
 */
function worthSaying(line: string): string | undefined {
  let entry: { level?: number; msg?: string; group?: string; name?: string };
  try {
    entry = JSON.parse(line);
  } catch {
    return line.trim() === '' ? undefined : line;
  }
  const msg = String(entry.msg ?? '');
  if ((entry.level ?? 0) < 50 && !msg.startsWith('group paused')) return undefined;
  return entry.group && !msg.includes(entry.group) ? `[${entry.group}] ${msg}` : msg;
}

/** A daemon of the stack, with what it logged that start() waits for. */
interface Daemon {
  name: string;
  child: ChildProcess;
  /** Resolves when the daemon logs `ready`; rejects when it exits first. */
  ready: Promise<void>;
  /** Groups with a child that reached `running` (the pool). */
  running: Set<string>;
  /** The port it listens on, once it said (the API). */
  port?: number;
}

function eachLine(stream: Readable, onLine: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
}

function startProgram(name: string, configFile: string, logDir: string): Daemon {
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(
    process.execPath,
    [join(RUN_ROOT, `dist/${name}/main.js`), '-c', configFile],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TASKQUEUE_LOG_PRETTY: '0', TASKQUEUE_AMQP_URL: '' },
    },
  );
  const running = new Set<string>();
  const daemon: Daemon = { name, child, ready: Promise.resolve(), running };
  let onReady!: () => void;
  let onExit!: (err: Error) => void;
  const ready = new Promise<void>((resolvePromise, reject) => {
    onReady = resolvePromise;
    onExit = reject;
  });
  ready.catch(() => {}); // the exit is said below; start() asks when it waits
  const onLine = (line: string) => {
    log.write(`${line}\n`);
    // The daemon's own line, not one of its children's (they log through the pool).
    if (line.includes('"msg":"ready"') && line.includes(`"name":"taskqueue-${name}"`)) onReady();
    const port = /"port":(\d+).*"msg":"API listening"/.exec(line);
    if (port) daemon.port = Number(port[1]);
    const state = /"group":"([^"]+)".*"to":"running"/.exec(line);
    if (state) running.add(state[1]!);
    const said = !stopping && worthSaying(line);
    if (said) say(`!! ${name}: ${said}`);
  };
  eachLine(child.stdout!, onLine);
  eachLine(child.stderr!, onLine);
  child.on('exit', (code, signal) => {
    onExit(new Error(`${name} exited (code ${code}, signal ${signal}) before it was ready`));
    if (!stopping) say(`!! ${name} exited (code ${code}, signal ${signal}); see ${logFile}`);
  });
  daemon.ready = ready;
  return daemon;
}

function stopProgram(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    child.kill('SIGTERM');
  });
}

let stopping = false;
let stage: Stage | undefined;
let node: RabbitNode | undefined;
let connection: amqp.ChannelModel | undefined;
let timer: NodeJS.Timeout | undefined;
let daemons: Daemon[] = [];
let counts: { sent: number; answered: number } | undefined;

/** Ctrl-C: stops what it started, newest first, and says how many tasks went round. */
async function stop(status = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(timer);
  say('stopping…');
  await connection?.close().catch(() => {});
  await Promise.all(daemons.map((daemon) => stopProgram(daemon.child)));
  if (node) await node.destroy();
  stage?.remove();
  if (counts) say(`${counts.sent} tasks sent, ${counts.answered} answered.`);
  say('stopped.');
  process.exit(status);
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  mkdirSync(join(WORK_DIR, 'logs'), { recursive: true });
  const logDir = join(WORK_DIR, 'logs');
  let url = process.env.TASKQUEUE_AMQP_URL;
  if (url) {
    say(`broker: ${url.replace(/\/\/[^@]*@/, '//***@')} (from TASKQUEUE_AMQP_URL)`);
  } else {
    say('broker: starting a private RabbitMQ node…');
    node = await RabbitNode.start();
    url = node.url;
    say(`broker: ${node.nodeName} on ${url}`);
  }
  stage = stageIfUnreadable(ROOT);
  if (stage.reason) {
    RUN_ROOT = stage.root;
    say(`this checkout cannot run as it is (${stage.reason});`);
    say(`  running a copy of the build from ${RUN_ROOT}`);
  }
  const configFile = join(WORK_DIR, 'config.ini');
  writeFileSync(configFile, devConfig(url));
  const dispatcher = startProgram('dispatcher', configFile, logDir);
  const pool = startProgram('workerpool', configFile, logDir);
  const api = startProgram('api', configFile, logDir);
  daemons = [dispatcher, pool, api];
  say(
    `dispatcher pid ${dispatcher.child.pid}, workerpool pid ${pool.child.pid}, ` +
      `api pid ${api.child.pid}; logs in ${logDir}`,
  );
  say('waiting for the dispatcher, the API and the pool’s children…');
  try {
    await Promise.all([dispatcher.ready, pool.ready, api.ready]);
  } catch (err) {
    say(`!! ${(err as Error).message}; stopping`);
    await stop(1);
    return;
  }
  for (const group of ['echo', 'shell']) {
    if (!pool.running.has(group)) say(`!! no child of group ${group} runs: its tasks wait`);
  }

  connection = await amqp.connect(url, { noDelay: true });
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue('taskqueue', { durable: true });
  await channel.assertQueue('results', { durable: true });
  const sentAt = new Map<string, number>();
  const tally = { sent: 0, answered: 0 };
  counts = tally;
  await channel.consume('results', (message: ConsumeMessage | null) => {
    if (!message) return;
    const id = String(message.properties.correlationId);
    const headers = message.properties.headers ?? {};
    const started = sentAt.get(id);
    if (started) tally.answered++;
    sentAt.delete(id);
    const body = message.content.toString('utf8');
    say(
      `task ${id} → ${headers[WORKER_TYPE_HEADER]} child pid ${headers[WORKER_PID_HEADER]} → ` +
        `${body.length > 120 ? `${body.slice(0, 117)}…` : body}` +
        (started ? `  (${Date.now() - started} ms)` : ''),
    );
    channel.ack(message);
  });

  let n = 0;
  const interval = setInterval(() => {
    n++;
    const type = n % 3 === 0 ? 'shell' : 'echo';
    const id = `demo-${n}`;
    const delayed = n % DELAYED_EVERY === 0;
    const text = delayed ? `hello number ${n}, ${DELAY_MS / 1000} s later` : `hello number ${n}`;
    const workitem = { fields: { params: { worker_type: type }, n, text } };
    sentAt.set(id, Date.now());
    tally.sent++;
    channel.publish('', 'taskqueue', Buffer.from(JSON.stringify(workitem)), {
      persistent: true,
      contentType: 'application/json',
      messageId: id,
      correlationId: id,
      ...(delayed
        ? { headers: { [NOT_BEFORE_HEADER]: new Date(Date.now() + DELAY_MS).toISOString() } }
        : {}),
    });
  }, 1000 / TASKS_PER_SECOND);

  timer = interval;
  // The API serves the dashboard at / (loopback needs no token here, so it opens signed in).
  say(`dashboard: http://127.0.0.1:${api.port}/`);
  say(`API on http://127.0.0.1:${api.port} (no token on loopback here; docs/api.md), e.g.`);
  say(`  curl -s 'http://127.0.0.1:${api.port}/v1/tasks?state=succeeded&limit=3'`);
  say(
    `tasks flowing (every ${DELAYED_EVERY}th waits ${DELAY_MS / 1000} s in the broker: ` +
      'taskqueue queues, or the dashboard, shows it delayed); Ctrl-C to stop.',
  );
}

main().catch((err) => {
  process.stderr.write(`npm start failed: ${(err as Error).stack ?? err}\n`);
  process.exit(ExitStatus.FAILURE);
});
