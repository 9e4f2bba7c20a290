/**
 * Every process the bench starts, so that each is stopped by its PID: at the end of its run, on
 * an error, on Ctrl-C, and (SIGKILL, synchronously) when the bench itself exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { commandLine } from './proc-sampler.js';

const live = new Set<Launched>();
/**
 * Processes that someone else started for us (the pool's children), by PID with a piece of
 * their command line: a PID reused by an unrelated process after ours exited is left alone.
 */
const adopted = new Map<number, string>();

export class Launched {
  readonly name: string;
  readonly logFile: string;
  readonly #child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(name: string, file: string, args: string[], logFile: string, env: NodeJS.ProcessEnv) {
    this.name = name;
    this.logFile = logFile;
    // Output goes to a file: a pipe would make the bench read (and pay for) every log line.
    const out = openSync(logFile, 'a');
    try {
      this.#child = spawn(file, args, { stdio: ['ignore', out, out], env });
    } finally {
      closeSync(out);
    }
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        live.delete(this);
        resolve({ code, signal });
      });
      // Not started at all (no 'exit' follows): nothing to stop.
      this.#child.once('error', () => {
        if (this.#child.pid !== undefined) return;
        live.delete(this);
        resolve({ code: null, signal: null });
      });
    });
  }

  get pid(): number {
    const pid = this.#child.pid;
    if (pid === undefined) throw new Error(`${this.name} did not start`);
    return pid;
  }

  get running(): boolean {
    return live.has(this);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Remember a process started on our behalf so that the last resort kills it too. */
export function adopt(pid: number, commandPart: string): void {
  adopted.set(pid, commandPart);
}

/** Forget adopted processes that exited normally. */
export function releaseAdopted(): void {
  for (const [pid, part] of adopted) if (!commandLine(pid).includes(part)) adopted.delete(pid);
}

/** Stops whatever is still running (error paths and Ctrl-C). */
export async function stopAll(graceMs = 15_000): Promise<void> {
  await Promise.all([...live].map((p) => p.stop(graceMs)));
  killAdopted();
}

function killAdopted(): void {
  for (const [pid, part] of adopted) {
    if (!commandLine(pid).includes(part)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already (the usual case: its parent stopped it)
    }
  }
  adopted.clear();
}

/** The last resort on exit: synchronous, so SIGKILL by PID. */
export function killAllNow(): void {
  for (const p of live) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  killAdopted();
}

/**
 * `work`, unless `failed` (a process died) rejects first. The loser may still reject later (its
 * connection closes): that rejection is expected and must not crash the bench.
 */
export function unlessFailed<T>(work: Promise<T>, failed: Promise<never>): Promise<T> {
  work.catch(() => {});
  return Promise.race([work, failed]);
}
