import { FINAL_STATES, type FinalState, type TaskState } from '../../common/task-states.js';

/** A throughput bucket counts every final state, each under its own name. */
export const THROUGHPUT_STATES = FINAL_STATES;

/** Tasks that finished in [at, at + step), by final state. */
export type ThroughputBucket = { at: string } & Record<FinalState, number>;

/** What a store's grouped query gives: a bucket's start (epoch seconds), a state, a count. */
export interface BucketCount {
  bucket: number;
  state: TaskState;
  count: number;
}

/**
 * Every bucket of `step` seconds from `since` up to `until` (ISO times, both multiples of `step`
 * since the epoch), oldest first, zeros included, filled from the store's counts.
 */
export function denseBuckets(
  since: string,
  until: string,
  step: number,
  counts: readonly BucketCount[],
): ThroughputBucket[] {
  const first = Date.parse(since) / 1000;
  const end = Date.parse(until) / 1000;
  const buckets: ThroughputBucket[] = [];
  for (let at = first; at < end; at += step) {
    const bucket = { at: new Date(at * 1000).toISOString() } as ThroughputBucket;
    for (const state of THROUGHPUT_STATES) bucket[state] = 0;
    buckets.push(bucket);
  }
  for (const { bucket, state, count } of counts) {
    const slot = buckets[(bucket - first) / step];
    if (slot !== undefined && (THROUGHPUT_STATES as readonly string[]).includes(state)) {
      slot[state as FinalState] += Number(count);
    }
  }
  return buckets;
}
