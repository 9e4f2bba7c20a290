import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CHANNEL_FD, Channel } from './channel.js';
import { CHILD_ENTRY, childCommand } from './child-command.js';
import {
  closeHeldTasksFile,
  HELD_TASKS_FD,
  type HeldTasks,
  openHeldTasksFile,
  readHeldTasks,
} from './held-tasks.js';
import type { ChildMessage, ChildSpec, ParentMessage, Verdict } from './ipc.js';

/** A child that has not said `ready` by then counts as failed to start. */
export const READY_TIMEOUT_MS = 60_000;
/** After the drain deadline, SIGTERM; after this much more, SIGKILL. */
export const KILL_GRACE_MS = 5_000;

/** Environment variables a child must not inherit: credentials travel over the channel only. */
const PRIVATE_ENV = ['TASKQUEUE_AMQP_URL', 'NOTIFY_SOCKET'];

/**
 * One worker child and its handshake. Events: `ready`, `message` (any other ChildMessage), `exit`
 * ({code, signal, ready}). `stop()` is idempotent and bounded: `stop` over the channel, SIGTERM
 * at the deadline, SIGKILL after KILL_GRACE_MS.
 */
export class ChildHandle extends EventEmitter {
  readonly spec: ChildSpec;
  #process: ChildProcess;
  #channel: Channel<ChildMessage, ParentMessage>;
  #ready = false;
  #exited: Promise<void>;
  #stopping: Promise<void> | undefined;
  /** The file the child writes its tasks to (held-tasks.ts); undefined once closed. */
  #heldFd: number | undefined;

  constructor(spec: ChildSpec) {
    super();
    this.spec = spec;
    this.#heldFd = openHeldTasksFile();
    const command = childCommand(spec.identity, fileURLToPath(CHILD_ENTRY));
    const env = { ...process.env, ...command.env };
    for (const name of PRIVATE_ENV) delete env[name];
    const stdio: Array<'ignore' | 'inherit' | 'pipe' | number> = ['ignore', 'inherit', 'inherit'];
    stdio[CHANNEL_FD] = 'pipe'; // a socket pair: channel.ts
    stdio[HELD_TASKS_FD] = this.#heldFd;
    // The command may be setpriv, which execs Node with both descriptors open.
    this.#process = spawn(command.file, command.args, {
      env,
      stdio,
    });
    this.#channel = new Channel(this.#process.stdio[CHANNEL_FD] as Socket);
    const readyTimer = setTimeout(() => {
      if (!this.#ready) this.#process.kill('SIGKILL');
    }, READY_TIMEOUT_MS);
    this.#channel.on('message', (message: ChildMessage) => {
      if (message.kind === 'ready') {
        this.#ready = true;
        clearTimeout(readyTimer);
        this.emit('ready');
      } else {
        this.emit('message', message);
      }
    });
    // A command that cannot start at all (spawn error) ends like a child that failed to start.
    this.#process.on('error', (err) => {
      if (this.#process.exitCode === null && this.#process.pid === undefined) {
        this.#closeHeld();
        this.emit('message', { kind: 'fatal', code: 'TQ_ERR_PLUGIN_LOAD', message: err.message });
      }
    });
    this.#exited = new Promise((resolve) => {
      this.#process.once('exit', (code, signal) => {
        clearTimeout(readyTimer);
        // The listeners read the file (what the child held when it ended) before it is closed.
        this.emit('exit', { code, signal, ready: this.#ready });
        this.#closeHeld();
        resolve();
      });
    });
    this.#send({ kind: 'start', spec });
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Asks the child to drain; after `deadlineMs` SIGTERM, then SIGKILL. Resolves on exit. */
  stop(deadlineMs: number): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#process.exitCode !== null || this.#process.signalCode !== null) return;
      this.#send({ kind: 'stop', graceMs: deadlineMs });
      const term = setTimeout(() => this.#process.kill('SIGTERM'), deadlineMs);
      const kill = setTimeout(() => this.#process.kill('SIGKILL'), deadlineMs + KILL_GRACE_MS);
      await this.#exited;
      clearTimeout(term);
      clearTimeout(kill);
    })();
    return this.#stopping;
  }

  /** The tasks the child holds now (or held when it ended), and how many it settled. */
  heldTasks(): HeldTasks {
    if (this.#heldFd === undefined) return { held: new Map(), settled: 0 };
    return readHeldTasks(this.#heldFd);
  }

  #closeHeld(): void {
    if (this.#heldFd === undefined) return;
    closeHeldTasksFile(this.#heldFd);
    this.#heldFd = undefined;
  }

  /** Answers the child's `ask` about a redelivered task. */
  answer(id: number, verdict: Verdict | undefined): void {
    this.#send({ kind: 'verdict', id, verdict });
  }

  /** Kills at once (the pool is going away hard, or the child is stuck past a task's timeout). */
  kill(): void {
    this.#process.kill('SIGKILL');
  }

  #send(message: ParentMessage): void {
    this.#channel.send(message);
  }
}
