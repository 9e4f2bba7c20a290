import { backoffDelay } from '../../common/amqp/backoff.js';
import type { Logger } from '../../common/logger.js';
import { ChildHandle } from '../child-handle.js';
import type { ChildMessage, ChildSpec } from '../ipc.js';
import { RestartIntensity } from './intensity.js';
import { type ChildEvent, type ChildState, exitMeaning, isActive, transition } from './states.js';

/** The supervision limits of a group; the defaults suit a production pool. */
export interface GroupPolicy {
  /** At most this many unplanned restarts … */
  maxRestarts: number;
  /** … within this period, else the group is marked failed. */
  restartPeriodMs: number;
  /** How long a failed group rests before it is tried again. */
  failedPauseMs: number;
  /** Delay before the first restart; it doubles with each recent restart, jittered. */
  restartBaseMs: number;
  restartMaxMs: number;
}

export const DEFAULT_POLICY: GroupPolicy = {
  maxRestarts: 5,
  restartPeriodMs: 60_000,
  failedPauseMs: 300_000,
  restartBaseMs: 500,
  restartMaxMs: 30_000,
};

/** A child of the group as `taskqueue plugins`, tests and logs see it. */
export interface ChildView {
  pid: number | undefined;
  state: ChildState;
}

/**
 * Supervises the children of one group: keeps `wanted` of them active, replaces the ones that
 * exit with a jittered, growing delay, gives up for `failedPauseMs` after too many restarts, and
 * recycles children (successor first) when they ask for it.
 */
export class GroupSupervisor {
  readonly name: string;
  #spec: ChildSpec;
  #wanted: number;
  #log: Logger;
  #policy: GroupPolicy;
  #children = new Map<ChildHandle, ChildState>();
  #intensity: RestartIntensity;
  #timer: NodeJS.Timeout | undefined;
  #failed = false;
  #stopping = false;
  #drainMs: number;
  #settle!: () => void;
  /**
   * Resolves the first time the group has all its wanted children running, or has failed: the
   * pool counts as ready (systemd's READY=1) once every group settled either way.
   */
  readonly settled = new Promise<void>((resolve) => {
    this.#settle = resolve;
  });

  constructor(spec: ChildSpec, drainMs: number, log: Logger, policy: GroupPolicy = DEFAULT_POLICY) {
    this.name = spec.group.name;
    this.#spec = spec;
    this.#wanted = spec.group.workers;
    this.#drainMs = drainMs;
    this.#log = log.child({ group: this.name });
    this.#policy = policy;
    this.#intensity = new RestartIntensity(policy.maxRestarts, policy.restartPeriodMs);
  }

  get spec(): ChildSpec {
    return this.#spec;
  }

  get failed(): boolean {
    return this.#failed;
  }

  children(): ChildView[] {
    return [...this.#children].map(([child, state]) => ({ pid: child.pid, state }));
  }

  start(): void {
    if (this.#wanted === 0) this.#settle();
    this.#reconcile('start');
  }

  /** A new number of children (a reload that changed only `workers`). */
  setWanted(wanted: number): void {
    this.#wanted = wanted;
    this.#reconcile('reload');
  }

  /** Drains every child within `deadlineMs`, killing stragglers; idempotent. */
  async stop(deadlineMs = this.#drainMs): Promise<void> {
    this.#stopping = true;
    this.#settle();
    clearTimeout(this.#timer);
    const exits: Promise<void>[] = [];
    for (const child of this.#children.keys()) {
      this.#apply(child, 'stop', 'pool stopping');
      exits.push(child.stop(deadlineMs));
    }
    await Promise.all(exits);
  }

  #reconcile(cause: string): void {
    if (this.#stopping || this.#failed || this.#timer) return;
    const active = [...this.#children]
      .filter(([, state]) => isActive(state))
      .map(([child]) => child);
    for (let n = active.length; n < this.#wanted; n++) this.#spawn(cause);
    // Too many (fewer workers after a reload): stop the newest first.
    for (const child of active.slice(this.#wanted).reverse()) {
      this.#apply(child, 'stop', 'fewer workers wanted');
      void child.stop(this.#drainMs);
    }
  }

  #spawn(cause: string): void {
    const child = new ChildHandle(this.#spec);
    this.#children.set(child, 'starting');
    this.#log.info({ pid: child.pid, from: 'none', to: 'starting', cause }, 'child state');
    child.on('ready', () => this.#onReady(child));
    child.on('message', (message: ChildMessage) => this.#onMessage(child, message));
    child.on('exit', (status: { code: number | null; signal: string | null }) =>
      this.#onExit(child, status),
    );
  }

  #onReady(child: ChildHandle): void {
    this.#apply(child, 'ready', 'handshake');
    const running = [...this.#children.values()].filter((state) => state === 'running').length;
    if (running >= this.#wanted) this.#settle();
    // A ready successor lets one retiring child go.
    const retiring = [...this.#children].find(([, state]) => state === 'retiring');
    if (retiring) {
      this.#apply(retiring[0], 'stop', 'successor ready');
      void retiring[0].stop(this.#drainMs);
    }
  }

  #onMessage(child: ChildHandle, message: ChildMessage): void {
    if (message.kind === 'recycle') {
      this.#apply(child, 'recycle', message.reason);
      this.#reconcile('successor');
    } else if (message.kind === 'fatal') {
      this.#log.error(
        { pid: child.pid, code: message.code },
        `child failed to start: ${message.message}`,
      );
    }
  }

  #onExit(child: ChildHandle, status: { code: number | null; signal: string | null }): void {
    const before = this.#children.get(child) ?? 'stopping';
    this.#apply(
      child,
      'exit',
      status.signal ? `signal ${status.signal}` : `exit code ${status.code}`,
    );
    this.#children.delete(child);
    const meaning = exitMeaning(before);
    if (this.#stopping) return;
    if (meaning === 'planned') {
      this.#reconcile('replace');
      return;
    }
    if (!this.#intensity.record()) {
      this.#markFailed();
      return;
    }
    const delay = backoffDelay(this.#intensity.recent() - 1, {
      baseMs: this.#policy.restartBaseMs,
      maxMs: this.#policy.restartMaxMs,
    });
    this.#log.warn(
      { pid: child.pid, meaning, restartInMs: delay, recentRestarts: this.#intensity.recent() },
      'child will be restarted',
    );
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#reconcile(`restart after ${meaning}`);
    }, delay);
  }

  #markFailed(): void {
    this.#failed = true;
    this.#settle();
    const { maxRestarts, restartPeriodMs, failedPauseMs } = this.#policy;
    this.#log.error(
      { maxRestarts, periodS: restartPeriodMs / 1000, retryInS: failedPauseMs / 1000 },
      `GROUP FAILED: more than ${maxRestarts} restarts in ${restartPeriodMs / 1000} s; no more restarts for ${failedPauseMs / 1000} s`,
    );
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#failed = false;
      this.#intensity.reset();
      this.#log.warn('failed group: trying again');
      this.#reconcile('retry after failure');
    }, failedPauseMs);
  }

  /** The one place a child changes state; each change is one log line. */
  #apply(child: ChildHandle, event: ChildEvent, cause: string): void {
    const from = this.#children.get(child);
    if (!from) return;
    const to = transition(from, event);
    if (!to) return;
    this.#children.set(child, to);
    this.#log.info({ pid: child.pid, from, to, cause }, 'child state');
  }
}
