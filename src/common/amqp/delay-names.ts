import { CANCELS_MAX_AGE_MS } from './queues.js';

/**
 * The names and figures of the delay ladder (docs/delays.md): a task waits in the broker, in
 * fixed-TTL queues that dead-letter to the next level, so a delay holds no process and survives
 * restarts of everything. Level N holds a task for 2^N units; the routing key carries the delay
 * in binary (one word a level, highest first) and then the destination queue. Named once here;
 * the topology and the routing keys are built in delay.ts.
 */

/** The ladder's resolution: a delay is rounded up to a whole number of units, never down. */
export const DELAY_UNIT_MS = 100;

/** Levels 0 … DELAY_LEVELS-1; level N waits 2^N units (level 22: about 4.9 days). */
export const DELAY_LEVELS = 23;

/**
 * The longest delay taken: the cancels stream's age (queues.ts CANCELS_MAX_AGE), so that a
 * cancel of a delayed task is still there when the task comes due.
 */
export const MAX_DELAY_MS = CANCELS_MAX_AGE_MS;

/** How long level `level` holds a task. */
export const levelDelayMs = (level: number): number => 2 ** level * DELAY_UNIT_MS;

const pad = (level: number): string => String(level).padStart(2, '0');

/** The queue of level `level`: `taskqueue.delay.07` (x-message-ttl levelDelayMs(level)). */
export const delayQueue = (level: number): string => `taskqueue.delay.${pad(level)}`;

/** The topic exchange in front of level `level`: `taskqueue.delay.x07`. */
export const delayExchange = (level: number): string => `taskqueue.delay.x${pad(level)}`;

/** Where a task enters the ladder: the exchange of the highest level. */
export const DELAY_ENTRY_EXCHANGE = delayExchange(DELAY_LEVELS - 1);

/** The topic exchange after level 0: routes a task by its destination to `worker_<type>`. */
export const DELAY_DELIVER_EXCHANGE = 'taskqueue.delay.deliver';

/**
 * The deliver exchange's alternate exchange (fanout), bound to the dispatcher's input queue: a
 * task whose destination has no binding (its queue was deleted meanwhile) goes back through the
 * dispatcher instead of being dropped.
 */
export const DELAY_UNROUTED_EXCHANGE = 'taskqueue.delay.unrouted';

/** True for a level queue of the ladder (`taskqueue queues` groups them as "delayed"). */
export const isDelayQueue = (name: string): boolean => /^taskqueue\.delay\.\d{2}$/.test(name);

/** The level of a delay queue's name, or undefined. */
export function delayQueueLevel(name: string): number | undefined {
  const match = /^taskqueue\.delay\.(\d{2})$/.exec(name);
  if (!match) return undefined;
  const level = Number(match[1]);
  return level < DELAY_LEVELS ? level : undefined;
}
