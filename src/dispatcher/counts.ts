import type { ErrorCode } from '../common/errors.js';

/**
 * The most types that get a label of their own with `[dispatcher] types = *`: any sender names
 * types, and a label per name would grow the metrics without bound. Past it, `type="*"`.
 */
export const MAX_TYPE_LABELS = 100;

/** The label of the types past MAX_TYPE_LABELS: `*` is no type name (SPEC §1's grammar). */
export const OTHER_TYPES = '*';

/**
 * The codes the dispatcher parks input for, counted from 0 so that the first parked task is an
 * increase to alert on (a series that appears at 1 has no increase in Prometheus' eyes).
 */
export const PARK_REASONS: readonly ErrorCode[] = [
  'TQ_ERR_TASK_INVALID',
  'TQ_ERR_TASK_TOO_LARGE',
  'TQ_ERR_TASK_TYPE_NOT_ALLOWED',
  'TQ_ERR_AMQP_ENCODE',
  'TQ_ERR_AMQP_QUEUE_REFUSED',
];

/**
 * What the dispatcher did, as plain counts (an addition or a map update a task): its metrics
 * (dispatcher-metrics.ts) read them at scrape time. A type is a label of its own when
 * `[dispatcher] types` lists it, or while fewer than MAX_TYPE_LABELS types have one.
 */
export class DispatcherCounts {
  received = 0;
  readonly forwarded = new Map<string, number>();
  /** By the TQ_ERR_* code of the reason it was parked for. */
  readonly parked = new Map<ErrorCode, number>(PARK_REASONS.map((code) => [code, 0]));
  #allowed: Set<string> | undefined;

  /** `allowed`: `[dispatcher] types` (undefined for `*`). */
  constructor(allowed: readonly string[] | undefined) {
    this.#allowed = allowed && new Set(allowed);
  }

  forward(type: string): void {
    const label = this.#labelOf(type);
    this.forwarded.set(label, (this.forwarded.get(label) ?? 0) + 1);
  }

  park(code: ErrorCode): void {
    this.parked.set(code, (this.parked.get(code) ?? 0) + 1);
  }

  /** The three sums `taskqueue status` shows (status.ts); summed when asked, never per task. */
  totals(): { received: number; forwarded: number; parked: number } {
    const sum = (counts: Map<unknown, number>) => [...counts.values()].reduce((a, b) => a + b, 0);
    return { received: this.received, forwarded: sum(this.forwarded), parked: sum(this.parked) };
  }

  #labelOf(type: string): string {
    if (this.forwarded.has(type) || this.#allowed?.has(type)) return type;
    if (this.#allowed) return OTHER_TYPES; // forwarded, not listed: cannot be, but stays bounded
    return this.forwarded.size < MAX_TYPE_LABELS ? type : OTHER_TYPES;
  }
}
