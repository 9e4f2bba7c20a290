import { createHash } from 'node:crypto';
import type { MessageProperties } from 'amqplib';
import { ATTEMPT_HEADER, CRASH_LOG_HEADER, CRASHES_HEADER } from '../../common/amqp/wire.js';

/**
 * What a task message carries about its past, in headers (named in wire.ts), so that any pool on
 * any host (and any queue type) sees the same counts: classic queues do not count deliveries, and
 * a count kept in one pool's memory would reset on another host.
 */
export { ATTEMPT_HEADER, CRASH_LOG_HEADER, CRASHES_HEADER };

/** The longest wait between two attempts, however many attempts there are. */
export const MAX_RETRY_DELAY_MS = 3_600_000;

/** The attempt this delivery is (1 for the first). */
export function attemptOf(properties: MessageProperties): number {
  return Math.max(1, positiveInteger(properties.headers?.[ATTEMPT_HEADER]) ?? 1);
}

/** How many consumers died holding this task so far, and how. */
export function crashesOf(properties: MessageProperties): { count: number; log: string[] } {
  const count = positiveInteger(properties.headers?.[CRASHES_HEADER]) ?? 0;
  const raw = properties.headers?.[CRASH_LOG_HEADER];
  const log = Array.isArray(raw) ? raw.map(String) : [];
  return { count, log };
}

/**
 * The wait before attempt `nextAttempt` (≥ 2): `retry_delay` doubled per attempt, capped at an
 * hour; the jitter is applied per message (`jittered`).
 */
export function retryDelayMs(retryDelaySeconds: number, nextAttempt: number): number {
  const exponential = retryDelaySeconds * 1000 * 2 ** Math.min(nextAttempt - 2, 30);
  return Math.round(Math.min(MAX_RETRY_DELAY_MS, exponential));
}

/**
 * A retry's own wait: between 75 % and 100 % of `delayMs`, so that tasks failing together do not
 * all come back at the same instant.
 */
export function jittered(delayMs: number, random: () => number = Math.random): number {
  return Math.round(delayMs * (0.75 + 0.25 * random()));
}

/**
 * A task's identity for the pool's ledger of what happened to it: its message_id, else its
 * correlation_id, else a hash of the body. Stable across redeliveries of the same message.
 */
export function taskKey(type: string, properties: MessageProperties, content: Buffer): string {
  const id = properties.messageId ?? properties.correlationId;
  if (typeof id === 'string' && id !== '') return `${type}\0${id}`;
  return `${type}\0#${createHash('sha1').update(content).digest('base64')}`;
}

function positiveInteger(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
