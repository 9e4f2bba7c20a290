/**
 * The real programs of a scenario (dist/dispatcher/main.js, dist/workerpool/main.js). Every
 * process is tracked by PID, including every pool child any pool ever logged, so that cleanup
 * ends all of them: SIGTERM (pools drain), SIGKILL after a grace, then SIGKILL for leftovers.
 */
import { readFileSync } from 'node:fs';
import { childPids, isAlive } from '../../support/processes.js';
import { FIXTURE_PLUGINS, WORKSPACE_PLUGINS, writeConfig } from '../../support/programs.js';
import { ChaosProgram } from './program.js';
import { errorText, within } from './util.js';

export interface FleetConfig {
  urls: string[];
  queueType?: 'classic' | 'quorum';
  /** Worker types the pools run (default `echo`). */
  enabled?: string[];
  /** Sections for the types, e.g. `[echo]\nworkers = 4\n`. */
  sections: string;
  /** Dispatcher prefetch (default 100). */
  dispatcherPrefetch?: number;
  /** More lines of the [dispatcher] section, e.g. `types = echo\n`. */
  dispatcherExtra?: string;
  /**
   * Connection attempts before a program gives up (exit 69). The backoff doubles from 200 ms up
   * to 10 s between attempts (src/common/amqp/backoff.ts), so 100 attempts ride out outages of
   * many minutes, and a 10 s broker stop needs only a handful.
   */
  connectRetries?: number;
  heartbeat?: number;
  /** Fixed sections after the types', e.g. `[tracking]` and `[api]` for `api()`. */
  extra?: string;
}

/** The config file text of a fleet. */
export function fleetConfigText(c: FleetConfig): string {
  return `[amqp]
urls = ${c.urls.join(', ')}
queue_type = ${c.queueType ?? 'classic'}
connect_retries = ${c.connectRetries ?? 100}
heartbeat = ${c.heartbeat ?? 10}

[dispatcher]
prefetch = ${c.dispatcherPrefetch ?? 100}
${c.dispatcherExtra ?? ''}

[workerpool]
plugin_paths = ${FIXTURE_PLUGINS}, ${WORKSPACE_PLUGINS}
enabled = ${(c.enabled ?? ['echo']).join(', ')}
shutdown_timeout = 10
log_level = info

${c.sections}
${c.extra ?? ''}`;
}

type Kind = 'dispatcher' | 'workerpool' | 'api';

export class Fleet {
  readonly configFile: string;
  readonly #config: ReturnType<typeof writeConfig>;
  readonly #programs: ChaosProgram[] = [];
  /** Programs the harness killed or stopped: their exit is expected. */
  readonly #ended = new Set<ChaosProgram>();
  readonly #logDir: string;
  readonly #say: (line: string) => void;
  #counters = { dispatcher: 0, workerpool: 0, api: 0 };

  constructor(config: FleetConfig, logDir: string, say: (line: string) => void) {
    this.#config = writeConfig(fleetConfigText(config));
    this.configFile = this.#config.file;
    this.#logDir = logDir;
    this.#say = say;
  }

  /** Starts a dispatcher; resolves once it consumes its input queue. */
  async dispatcher(): Promise<ChaosProgram> {
    const program = this.#start('dispatcher');
    await program.waitFor(/"msg":"dispatcher consuming"/, 60_000);
    return program;
  }

  /**
   * Starts `taskqueue-api` (its config needs `[api]`, see `extra`); resolves once it listens and
   * reached the broker, with the port it listens on (`listen = 127.0.0.1:0` picks a free one).
   */
  async api(): Promise<{ program: ChaosProgram; port: number }> {
    const program = this.#start('api');
    const listening = await program.waitFor(/"msg":"API listening"/, 60_000);
    const port = (JSON.parse(listening) as { port: number }).port;
    await program.waitFor(/"msg":"ready"/, 120_000);
    return { program, port };
  }

  /** Starts a pool; resolves once `children` children of `group` are running. */
  async pool(group = 'echo', children = 1): Promise<ChaosProgram> {
    const program = this.#start('workerpool');
    const deadline = Date.now() + 90_000;
    while (program.runningCount(group) < children) {
      if (!program.alive || Date.now() > deadline) {
        throw new Error(
          `${program.label}: ${program.runningCount(group)}/${children} children of ${group} running\n${program.tail()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return program;
  }

  #start(kind: Kind): ChaosProgram {
    const label = `${kind}-${++this.#counters[kind]}`;
    const program = new ChaosProgram(kind, label, this.configFile, this.#logDir);
    this.#programs.push(program);
    this.#say(`started ${label} (pid ${program.pid})`);
    return program;
  }

  /** The live programs of a kind, oldest first. */
  running(kind: Kind): ChaosProgram[] {
    return this.#programs.filter((p) => p.name === kind && p.alive && !this.#ended.has(p));
  }

  /** kill -9 a program; resolves once it is gone. */
  async kill(program: ChaosProgram): Promise<void> {
    this.#ended.add(program);
    program.process.kill('SIGKILL');
    await within(program.exited(), 10_000, `${program.label} did not die of SIGKILL`);
  }

  /** The pool's live children (worker processes), read from /proc. */
  children(pool: ChaosProgram): number[] {
    return childPids(pool.pid).filter((pid) => isWorkerChild(pid));
  }

  /**
   * The pool's children past their start handshake. A child killed while it starts fails at
   * bootstrap as far as the pool can tell, and counts towards its group's restart intensity by
   * design: a scenario about working children dying kills only these.
   */
  runningChildren(pool: ChaosProgram): number[] {
    return this.children(pool).filter((pid) => pool.childState(pid) === 'running');
  }

  /** Programs that exited while nobody asked them to: each one is a failure of the scenario. */
  unexpectedExits(): string[] {
    return this.#programs
      .filter((p) => !this.#ended.has(p) && !p.alive)
      .map((p) => {
        const { exitCode, signalCode } = p.process;
        return `${p.label} (pid ${p.pid}) exited by itself with ${signalCode ?? `code ${exitCode}`}`;
      });
  }

  /** Log lines of the programs (of `kind`) matching `pattern`, prefixed with their label. */
  grep(pattern: RegExp, kind?: Kind, max = 1000): string[] {
    return this.#programs
      .filter((p) => kind === undefined || p.name === kind)
      .flatMap((p) => p.grep(pattern, max).map((l) => `${p.label}: ${l}`));
  }

  /**
   * Stops every program: SIGTERM (the pools drain), SIGKILL after `graceMs`; then SIGKILLs any
   * pool child still alive, by PID. Bounded; safe to call twice.
   */
  async stop(graceMs = 15_000): Promise<void> {
    const live = this.#programs.filter((p) => p.alive);
    for (const p of live) this.#ended.add(p);
    await Promise.all(
      live.map((p) =>
        within(p.stop(graceMs), graceMs + 10_000, `stopping ${p.label}`).catch((err) => {
          this.#say(errorText(err));
          p.process.kill('SIGKILL');
        }),
      ),
    );
    this.killStragglers();
    this.#config.cleanup();
  }

  /** SIGKILL for every process of this fleet that is still alive (synchronous: exit hooks). */
  killStragglers(): void {
    for (const p of this.#programs) {
      if (p.alive) {
        this.#ended.add(p);
        p.process.kill('SIGKILL');
      }
      for (const pid of p.childPids) {
        if (isAlive(pid) && isWorkerChild(pid)) {
          this.#say(`killing leftover child ${pid} of ${p.label}`);
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }
      }
    }
  }
}

/** A taskqueue worker child (so that a reused PID is never killed). */
function isWorkerChild(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('workerpool/child/main.js');
  } catch {
    return false;
  }
}
