/**
 * A real taskqueue program (dist/<name>/main.js) for the chaos suite. Like test/support's
 * Program, but made for long runs under faults: every output line goes to a log file (capped),
 * only a short tail and a few counters stay in memory, so a program that logs in a tight loop
 * cannot exhaust the runner's memory or stall its event loop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, readLines } from '../../support/programs.js';

/** Bytes of output kept in a program's log file; later lines are only counted. */
const LOG_CAP_BYTES = 64 * 1024 * 1024;
const TAIL_LINES = 200;

type Exit = { code: number | null; signal: NodeJS.Signals | null };

export class ChaosProgram {
  readonly name: 'dispatcher' | 'workerpool' | 'api';
  readonly label: string;
  readonly logFile: string;
  readonly process: ChildProcess;
  /** Every pool child PID this program logged (`child state` lines). */
  readonly childPids = new Set<number>();
  /** Lines that did not fit in the log file. */
  droppedLines = 0;
  readonly #tail: string[] = [];
  readonly #running = new Map<string, number>();
  /** Each child's state in the pool's last `child state` line about it. */
  readonly #childState = new Map<number, string>();
  /** Each child's group, from the same lines. */
  readonly #childGroup = new Map<number, string>();
  #fd: number | undefined;
  #bytes = 0;
  #waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  readonly #exit: Promise<Exit>;

  constructor(
    name: 'dispatcher' | 'workerpool' | 'api',
    label: string,
    configFile: string,
    logDir: string,
  ) {
    this.name = name;
    this.label = label;
    this.logFile = join(logDir, `${label}.log`);
    this.#fd = openSync(this.logFile, 'a');
    this.process = spawn(process.execPath, [join(ROOT, `dist/${name}/main.js`), '-c', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TASKQUEUE_LOG_PRETTY: '0', TASKQUEUE_AMQP_URL: '' },
    });
    for (const stream of [this.process.stdout!, this.process.stderr!])
      readLines(stream, (line) => this.#onLine(line));
    this.#exit = new Promise((resolve) =>
      this.process.once('exit', (code, signal) => resolve({ code, signal })),
    );
    // 'close' comes after the last output was read from the pipes.
    this.process.once('close', () => this.#closeLog());
  }

  get pid(): number {
    return this.process.pid!;
  }

  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Resolves with the first line matching `pattern` from now on (or rejects after timeoutMs). */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string> {
    const seen = this.#tail.find((line) => pattern.test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(new Error(`${this.label}: no line matching ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (line: string) => {
        clearTimeout(timer);
        resolve(line);
      };
      this.#waiters.push({ pattern, resolve: done });
    });
  }

  /** Children of `group` that reached `running` so far (pool logs). */
  runningCount(group: string): number {
    return this.#running.get(group) ?? 0;
  }

  /** The state the pool last logged for child `pid` (`starting`, `running`, …), if any. */
  childState(pid: number): string | undefined {
    return this.#childState.get(pid);
  }

  /** The group of child `pid`, from the pool's `child state` lines, if any. */
  childGroup(pid: number): string | undefined {
    return this.#childGroup.get(pid);
  }

  /** Lines of the log file (and the tail) matching `pattern`, at most `max`. */
  grep(pattern: RegExp, max = 1000): string[] {
    let text = '';
    try {
      text = readFileSync(this.logFile, 'utf8');
    } catch {
      text = this.#tail.join('\n');
    }
    const found: string[] = [];
    for (const line of text.split('\n')) {
      if (pattern.test(line)) found.push(line);
      if (found.length >= max) break;
    }
    return found;
  }

  tail(count = 20): string {
    return this.#tail.slice(-count).join('\n');
  }

  exited(): Promise<Exit> {
    return this.#exit;
  }

  /** SIGTERM, and SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs: number): Promise<Exit> {
    if (this.alive) {
      this.process.kill('SIGTERM');
      const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
      const exit = await this.#exit;
      clearTimeout(timer);
      return exit;
    }
    return this.#exit;
  }

  #onLine(line: string): void {
    if (this.#fd !== undefined && this.#bytes < LOG_CAP_BYTES) {
      this.#bytes += Buffer.byteLength(line) + 1;
      try {
        writeSync(this.#fd, `${line}\n`);
      } catch {
        this.droppedLines++;
      }
    } else {
      this.droppedLines++;
    }
    this.#tail.push(line);
    if (this.#tail.length > TAIL_LINES) this.#tail.splice(0, this.#tail.length - TAIL_LINES);
    if (line.includes('"child state"')) {
      const pid = /"childPid":(\d+),"from"/.exec(line)?.[1];
      const to = /"to":"([^"]+)"/.exec(line)?.[1];
      if (pid) this.childPids.add(Number(pid));
      if (pid && to) this.#childState.set(Number(pid), to);
      const group = /"group":"([^"]+)"/.exec(line)?.[1];
      if (pid && group) this.#childGroup.set(Number(pid), group);
      if (group && to === 'running') {
        this.#running.set(group, (this.#running.get(group) ?? 0) + 1);
      }
    }
    if (process.env.CHAOS_VERBOSE) process.stderr.write(`[${this.label}] ${line}\n`);
    if (this.#waiters.length === 0) return;
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.pattern.test(line)) return true;
      waiter.resolve(line);
      return false;
    });
  }

  #closeLog(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}
