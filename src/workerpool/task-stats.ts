/**
 * What a child counts of its tasks for the pool's metrics, and the `stats` message that carries
 * it. Children never load prom-client (docs/metrics.md): a child adds to plain arrays here as its
 * tasks end, and sends what changed at most once a second (child/stats-reporter.ts); the pool
 * checks each message (isStatsMessage: a child runs plugin code and is not trusted) and adds it
 * to its totals (stats-totals.ts), labelled with the group's own type, never one a child names.
 *
 * This module is loaded by children: it must import nothing that loads prom-client.
 */

/**
 * How a task ended for the metrics, one of a fixed set (docs/metrics.md):
 * `succeeded` its result published; `failed` its error result published, no attempt left;
 * `retried` a failed attempt sent back for another; `timed_out` an attempt past `timeout`
 * (retried or reported); `crashed` it came back because its consumer died, and was requeued
 * with the crash counted; `poisoned` parked after `max_crashes`; `parked` parked unrun or with
 * an error result (unreadable, result too large or unserializable); `returned` back to the
 * broker without an outcome (handed back at shutdown, connection lost, outcome refused).
 */
export const TASK_OUTCOMES = [
  'succeeded',
  'failed',
  'retried',
  'timed_out',
  'crashed',
  'poisoned',
  'parked',
  'returned',
] as const;

export type TaskOutcome = (typeof TASK_OUTCOMES)[number];

const OUTCOME_INDEX = new Map<TaskOutcome, number>(TASK_OUTCOMES.map((o, i) => [o, i]));

/** Upper bounds (seconds) of the run-time histogram's buckets: plugins from 5 ms to 30 min. */
export const RUN_SECONDS_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800,
] as const;

/**
 * Upper bounds (seconds) of the time-in-queue histogram's buckets. An AMQP `timestamp` is whole
 * seconds, so nothing finer than a second can be told.
 */
export const QUEUED_SECONDS_BUCKETS = [1, 2, 5, 10, 30, 60, 300, 900, 3600, 14400] as const;

/**
 * Child → pool: what changed since the last one. `outcomes[i]` counts TASK_OUTCOMES[i]; `run`
 * and `queued` count observations per bucket (not cumulative), the last one past the highest
 * bound; the sums are seconds.
 */
export interface StatsMessage {
  kind: 'stats';
  outcomes: number[];
  run: number[];
  runSum: number;
  queued: number[];
  queuedSum: number;
}

/**
 * The most a count of one message may say: a child sends a message a second, and no child
 * settles a million tasks a second. Past it the message is malformed, its child broken.
 */
export const MAX_STATS_COUNT = 1_000_000;
/**
 * The most seconds one observation counts for (about 116 days): a sender's `timestamp` of 0 or
 * a clock years off must not make a sum that breaks the child that observed it.
 */
export const MAX_TASK_SECONDS = 10_000_000;
/** The most seconds one message's sums may say. */
export const MAX_STATS_SECONDS = MAX_STATS_COUNT * MAX_TASK_SECONDS;

/** `seconds` within [0, MAX_TASK_SECONDS]; NaN is 0. */
const bounded = (seconds: number): number =>
  seconds > 0 ? Math.min(seconds, MAX_TASK_SECONDS) : 0;

/** The index of the bucket `value` falls in: the first bound ≥ value, else the last bucket. */
export function bucketIndex(bounds: readonly number[], value: number): number {
  for (let i = 0; i < bounds.length; i++) if (value <= bounds[i]!) return i;
  return bounds.length;
}

/** A child's counts since its last message: a few array additions a task, no allocation. */
export class TaskStats {
  #outcomes = new Array<number>(TASK_OUTCOMES.length).fill(0);
  #run = new Array<number>(RUN_SECONDS_BUCKETS.length + 1).fill(0);
  #runSum = 0;
  #queued = new Array<number>(QUEUED_SECONDS_BUCKETS.length + 1).fill(0);
  #queuedSum = 0;
  #changed = false;

  get changed(): boolean {
    return this.#changed;
  }

  ended(outcome: TaskOutcome): void {
    this.#outcomes[OUTCOME_INDEX.get(outcome)!]!++;
    this.#changed = true;
  }

  ran(seconds: number): void {
    const ran = bounded(seconds);
    this.#run[bucketIndex(RUN_SECONDS_BUCKETS, ran)]!++;
    this.#runSum += ran;
    this.#changed = true;
  }

  /** Negative waits (clocks of two hosts apart) count as 0: see docs/metrics.md. */
  queued(seconds: number): void {
    const wait = bounded(seconds);
    this.#queued[bucketIndex(QUEUED_SECONDS_BUCKETS, wait)]!++;
    this.#queuedSum += wait;
    this.#changed = true;
  }

  /** What changed since the last call, then counts from zero; undefined when nothing did. */
  take(): StatsMessage | undefined {
    if (!this.#changed) return undefined;
    const message: StatsMessage = {
      kind: 'stats',
      outcomes: this.#outcomes,
      run: this.#run,
      runSum: this.#runSum,
      queued: this.#queued,
      queuedSum: this.#queuedSum,
    };
    this.#outcomes = new Array<number>(TASK_OUTCOMES.length).fill(0);
    this.#run = new Array<number>(RUN_SECONDS_BUCKETS.length + 1).fill(0);
    this.#runSum = 0;
    this.#queued = new Array<number>(QUEUED_SECONDS_BUCKETS.length + 1).fill(0);
    this.#queuedSum = 0;
    this.#changed = false;
    return message;
  }
}

const isCount = (value: unknown): boolean =>
  Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= MAX_STATS_COUNT;

const isCounts = (value: unknown, length: number): boolean =>
  Array.isArray(value) && value.length === length && value.every(isCount);

const isSeconds = (value: unknown): boolean =>
  typeof value === 'number' && value >= 0 && value <= MAX_STATS_SECONDS;

/**
 * True when the fields of `m` (a child's `stats` message, its `kind` already checked) are what
 * TaskStats sends: arrays of exactly the known lengths, counts whole and bounded, sums finite.
 */
export function isStatsMessage(m: Record<string, unknown>): boolean {
  return (
    isCounts(m.outcomes, TASK_OUTCOMES.length) &&
    isCounts(m.run, RUN_SECONDS_BUCKETS.length + 1) &&
    isCounts(m.queued, QUEUED_SECONDS_BUCKETS.length + 1) &&
    isSeconds(m.runSum) &&
    isSeconds(m.queuedSum)
  );
}
