import { type StatsMessage, type TaskOutcome, TaskStats } from '../task-stats.js';
import type { TaskInHand } from './task.js';

/**
 * At most one `stats` message a second: a busy child's tasks end hundreds of times a second, and
 * one message per task cost more than the task (held-tasks.ts says so of takes).
 */
export const STATS_INTERVAL_MS = 1000;

/**
 * Ends told at once rather than within the interval: a crashed or poison task comes right after
 * a child died with it, and the next holder of a poison task often dies too, before its interval
 * is over, taking the count with it. Each follows a child's death, so they are never frequent.
 */
const SENT_AT_ONCE: ReadonlySet<TaskOutcome> = new Set(['crashed', 'poisoned']);

/** What WorkerRuntime tells about its tasks for the pool's metrics. */
export interface TaskReport {
  /** A task was taken from the broker. */
  taken(task: TaskInHand): void;
  /** A task was settled; `task.ending` says how. */
  settled(task: TaskInHand): void;
}

/**
 * Counts a child's tasks (task-stats.ts) and sends what changed to the pool, at most once every
 * STATS_INTERVAL_MS and only when something did; `flush()` sends the rest before the child exits.
 * A child killed loses at most its last interval's counts.
 */
export class StatsReporter implements TaskReport {
  #stats = new TaskStats();
  #send: (message: StatsMessage, sent: () => void) => void;
  #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #now: () => number;

  constructor(
    send: (message: StatsMessage, sent: () => void) => void,
    intervalMs = STATS_INTERVAL_MS,
    now: () => number = Date.now,
  ) {
    this.#send = send;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /**
   * Time in queue, from the message's `timestamp` (whole seconds, set by `taskqueue submit` and
   * carried by the dispatcher) to now; only for a first delivery of a first attempt, since a
   * retry's or a redelivery's wait includes the earlier attempts. No timestamp: not observed.
   */
  taken(task: TaskInHand): void {
    const { message } = task;
    const timestamp = message.properties.timestamp as unknown;
    if (typeof timestamp !== 'number' || task.attempt !== 1 || message.fields.redelivered) return;
    this.#stats.queued(this.#now() / 1000 - timestamp);
    this.#changed();
  }

  settled(task: TaskInHand): void {
    this.#stats.ended(task.ending);
    if (task.ran) this.#stats.ran(task.durationMs / 1000);
    if (SENT_AT_ONCE.has(task.ending)) this.#sendNow();
    else this.#changed();
  }

  /**
   * Sends what is left; resolves once it is written, at once when nothing is, and after
   * STATS_INTERVAL_MS at most: a pool that does not read does not hold a leaving child.
   */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const message = this.#stats.take();
    if (!message) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.#intervalMs).unref();
      this.#send(message, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #sendNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const message = this.#stats.take();
    if (message) this.#send(message, () => {});
  }

  #changed(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      const message = this.#stats.take();
      if (message) this.#send(message, () => {});
    }, this.#intervalMs).unref();
  }
}
