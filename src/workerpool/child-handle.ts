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
  heldTasksOversized,
  heldTasksSlots,
  openHeldTasksFile,
  readHeldTasks,
} from './held-tasks.js';
import {
  type ChildMessage,
  type ChildSpec,
  isChildMessage,
  type ParentMessage,
  type Verdict,
} from './ipc.js';
import type { ChildBreach, ChildExit, SupervisedChild } from './supervisor/supervised-child.js';

/** A child that has not said `ready` by then counts as failed to start. */
export const READY_TIMEOUT_MS = 60_000;
/** After the drain deadline, SIGTERM; after this much more, SIGKILL. */
export const KILL_GRACE_MS = 5_000;

/**
 * Environment variables a child must not inherit: credentials travel over the channel only, and
 * systemd's notify socket and watchdog are the pool's (a child's ping would keep a stuck pool
 * alive: NotifyAccess=all).
 */
export const PRIVATE_ENV = ['TASKQUEUE_AMQP_URL', 'NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID'];

export type { ChildBreach } from './supervisor/supervised-child.js';

/**
 * One worker child and its handshake; constructed idle, `start()` spawns it. Events: `ready`,
 * `message` (any other ChildMessage, checked by isChildMessage), `broken` (ChildBreach: the child
 * sent a malformed message or grew its held-tasks file past its slots, and is being killed for
 * it), `exit` ({code, signal, ready, killedByPool}). `stop()` is idempotent and bounded: `stop`
 * over the channel, SIGTERM at the deadline, SIGKILL after KILL_GRACE_MS; before `start()` it
 * resolves at once.
 */
export class ChildHandle extends EventEmitter implements SupervisedChild {
  readonly spec: ChildSpec;
  /** Undefined until `start()`. */
  #process: ChildProcess | undefined;
  #channel: Channel<ChildMessage, ParentMessage> | undefined;
  #ready = false;
  /** Resolves when the process ended; already resolved for a child never started. */
  #exited: Promise<void> = Promise.resolve();
  #stopping: Promise<void> | undefined;
  /** The file the child writes its tasks to (held-tasks.ts); undefined once closed. */
  #heldFd: number | undefined;
  /** The most slots of that file that are read (heldTasksSlots of the group's prefetch). */
  #heldSlots: number;
  /**
   * Why the pool itself signalled the child, if it did: an exit by a signal the pool did not
   * send came from outside (an operator, the OOM killer), not from the plugin's own failure.
   */
  #killedByPool: string | undefined;
  /** The child's `ask`s not answered yet. */
  #asking = 0;

  constructor(spec: ChildSpec) {
    super();
    this.spec = spec;
    this.#heldSlots = heldTasksSlots(spec.group.prefetch);
  }

  /**
   * Spawns the process and sends it `start`; the child then says `ready` or ends. Separate from
   * the constructor so that a group attaches its listeners first, and can be given fake children.
   * A second call does nothing.
   */
  start(): void {
    if (this.#process) return;
    const spec = this.spec;
    const heldFd = openHeldTasksFile();
    this.#heldFd = heldFd;
    const command = childCommand(
      spec.identity,
      fileURLToPath(CHILD_ENTRY),
      spec.group.semiSpaceSize,
    );
    const env = { ...process.env, ...command.env };
    for (const name of PRIVATE_ENV) delete env[name];
    const stdio: Array<'ignore' | 'inherit' | 'pipe' | number> = ['ignore', 'inherit', 'inherit'];
    stdio[CHANNEL_FD] = 'pipe'; // a socket pair: channel.ts
    stdio[HELD_TASKS_FD] = heldFd;
    // The command may be setpriv, which execs Node with both descriptors open.
    const child = spawn(command.file, command.args, {
      env,
      stdio,
    });
    this.#process = child;
    const maxKeys = this.#heldSlots;
    const channel = new Channel<ChildMessage, ParentMessage>(
      child.stdio[CHANNEL_FD] as Socket,
      (value) => isChildMessage(value, maxKeys),
    );
    this.#channel = channel;
    channel.on('broken', (reason: string) =>
      this.#breach({ code: 'TQ_ERR_CHILD_MESSAGE', reason: `sent ${reason}` }),
    );
    const readyTimer = setTimeout(() => {
      if (!this.#ready) this.#signal('SIGKILL', 'not ready in time');
    }, READY_TIMEOUT_MS);
    channel.on('message', (message: ChildMessage) => {
      if (message.kind === 'ready') {
        this.#ready = true;
        clearTimeout(readyTimer);
        this.emit('ready');
        return;
      }
      if (message.kind === 'ask' && ++this.#asking > this.#heldSlots) {
        // One question per task in hand at most: more is a flood of waiting promises and timers.
        this.#breach({
          code: 'TQ_ERR_CHILD_MESSAGE',
          reason: `asked ${this.#asking} questions at once, more than its ${this.#heldSlots} slots`,
        });
        return;
      }
      this.emit('message', message);
    });
    // A command that cannot start at all (spawn error) ends like a child that failed to start.
    child.on('error', (err) => {
      if (child.exitCode === null && child.pid === undefined) {
        this.#closeHeld();
        this.emit('message', { kind: 'fatal', code: 'TQ_ERR_PLUGIN_LOAD', message: err.message });
      }
    });
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        clearTimeout(readyTimer);
        // The listeners read the file (what the child held when it ended) before it is closed.
        const status: ChildExit = {
          code,
          signal,
          ready: this.#ready,
          killedByPool: this.#killedByPool,
        };
        this.emit('exit', status);
        this.#closeHeld();
        resolve();
      });
    });
    this.#send({ kind: 'start', spec });
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Asks the child to drain; after `deadlineMs` SIGTERM, then SIGKILL. Resolves on exit. */
  stop(deadlineMs: number): Promise<void> {
    this.#stopping ??= (async () => {
      const child = this.#process;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      this.#send({ kind: 'stop', graceMs: deadlineMs });
      const term = setTimeout(() => this.#signal('SIGTERM', 'drain deadline'), deadlineMs);
      const kill = setTimeout(
        () => this.#signal('SIGKILL', 'drain deadline'),
        deadlineMs + KILL_GRACE_MS,
      );
      await this.#exited;
      clearTimeout(term);
      clearTimeout(kill);
    })();
    return this.#stopping;
  }

  /**
   * The tasks the child holds now (or held when it ended), and how many it settled. A file grown
   * past its slots breaks the child (`broken`); what its slots say is still returned.
   */
  heldTasks(): HeldTasks {
    if (this.#heldFd === undefined) return { held: new Map(), waiting: new Map(), settled: 0 };
    let tasks: HeldTasks;
    try {
      tasks = readHeldTasks(this.#heldFd, this.#heldSlots);
    } catch (err) {
      this.#breach({
        code: 'TQ_ERR_CHILD_HELD_TASKS',
        reason: `unreadable: ${(err as Error).message}`,
      });
      return { held: new Map(), waiting: new Map(), settled: 0 };
    }
    if (tasks.oversized) this.#heldOversized(tasks.oversized.bytes);
    return tasks;
  }

  /** One fstat: breaks the child if it grew its held-tasks file past its slots. */
  checkHeldTasks(): void {
    if (this.#heldFd === undefined) return;
    const bytes = heldTasksOversized(this.#heldFd, this.#heldSlots);
    if (bytes !== undefined) this.#heldOversized(bytes);
  }

  #heldOversized(bytes: number): void {
    this.#breach({
      code: 'TQ_ERR_CHILD_HELD_TASKS',
      reason: `grew its held-tasks file to ${bytes} bytes, beyond its ${this.#heldSlots} slots`,
    });
  }

  /** The child broke the protocol: killed (once), and `broken` says how. */
  #breach(breach: ChildBreach): void {
    const child = this.#process;
    if (!child || this.#killedByPool !== undefined || child.exitCode !== null) return;
    if (child.signalCode !== null) return;
    this.#signal('SIGKILL', breach.code);
    this.emit('broken', breach);
  }

  #closeHeld(): void {
    if (this.#heldFd === undefined) return;
    closeHeldTasksFile(this.#heldFd);
    this.#heldFd = undefined;
  }

  /** Answers the child's `ask` about a redelivered task. */
  answer(id: number, verdict: Verdict | undefined): void {
    this.#asking--;
    this.#send({ kind: 'verdict', id, verdict });
  }

  /** Kills at once (the pool is going away hard, or the child is stuck past a task's timeout). */
  kill(reason = 'killed by the pool'): void {
    this.#signal('SIGKILL', reason);
  }

  #signal(signal: NodeJS.Signals, reason: string): void {
    if (!this.#process) return;
    this.#killedByPool ??= reason;
    this.#process.kill(signal);
  }

  #send(message: ParentMessage): void {
    this.#channel?.send(message);
  }
}
