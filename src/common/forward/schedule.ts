import type { MessageProperties, Options } from 'amqplib';
import { NOT_BEFORE_SLACK_MS } from '../amqp/delay.js';
import { DELAY_UNIT_MS, MAX_DELAY_MS } from '../amqp/delay-names.js';
import { headerTime, shownHeader } from '../amqp/header-time.js';
import { EXPIRES_AT_HEADER, NOT_BEFORE_HEADER } from '../amqp/wire.js';

export { NOT_BEFORE_SLACK_MS };

/** When a task may start and until when, as the dispatcher reads its input message. */
export interface Timing {
  ok: true;
  /** Its not-before, when more than DELAY_UNIT_MS ahead: it goes into the delay ladder. */
  dueMs: number | undefined;
  /** Its deadline (ISO 8601), from the header or the AMQP `expiration`, when it has one. */
  expiresAt: string | undefined;
}

/** A time the dispatcher cannot honour: the task is parked on `<input>.invalid`. */
export interface TimingRefused {
  ok: false;
  reason: string;
  code: 'TQ_ERR_DELAY_INVALID';
}

/**
 * Reads the not-before and expires-at headers and the AMQP `expiration` of an input message;
 * undefined for a task that has none of them (the usual one: two lookups and no clock read).
 */
export function timingOf(
  properties: { headers?: MessageProperties['headers']; expiration?: unknown },
  now: () => number = Date.now,
): Timing | TimingRefused | undefined {
  const headers = properties.headers;
  const expiration = properties.expiration;
  if (headers === undefined && expiration === undefined) return undefined;
  const notBefore = headers?.[NOT_BEFORE_HEADER];
  const expiresAt = headers?.[EXPIRES_AT_HEADER];
  if (notBefore === undefined && expiresAt === undefined && expiration === undefined)
    return undefined;
  const at = now();
  let dueMs: number | undefined;
  if (notBefore !== undefined) {
    const due = headerTime(notBefore);
    if (due === undefined) return refused(NOT_BEFORE_HEADER, notBefore, 'is not a time');
    if (due > at + MAX_DELAY_MS + NOT_BEFORE_SLACK_MS)
      return refused(NOT_BEFORE_HEADER, notBefore, 'is more than 7 days ahead');
    if (due - at > DELAY_UNIT_MS) dueMs = due;
  }
  let deadline: number | undefined;
  if (expiresAt !== undefined) {
    deadline = headerTime(expiresAt);
    if (deadline === undefined) return refused(EXPIRES_AT_HEADER, expiresAt, 'is not a time');
  }
  if (expiration !== undefined) {
    // The broker refuses a publish whose expiration is not a number of ms: only another
    // program's odd value reaches here, and a deadline that cannot be read is not guessed.
    const ms = Number(expiration);
    if (!Number.isSafeInteger(ms) || ms < 0)
      return refused('expiration', expiration, 'is not a number of milliseconds');
    if (deadline === undefined || at + ms < deadline) deadline = at + ms;
  }
  return {
    ok: true,
    dueMs,
    expiresAt: deadline === undefined ? undefined : new Date(deadline).toISOString(),
  };
}

/**
 * The forwarded properties for `timing`: the AMQP `expiration` gone (the broker would drop the
 * task silently when it runs out, or let it out of a delay level early) and the deadline in its
 * header instead. A copy of the headers: the input message's own table is not changed.
 */
export function applyTiming(options: Options.Publish, timing: Timing): void {
  if (options.expiration !== undefined) delete options.expiration;
  if (timing.expiresAt !== undefined && options.headers?.[EXPIRES_AT_HEADER] !== timing.expiresAt)
    options.headers = { ...(options.headers ?? {}), [EXPIRES_AT_HEADER]: timing.expiresAt };
}

function refused(name: string, value: unknown, why: string): TimingRefused {
  return {
    ok: false,
    code: 'TQ_ERR_DELAY_INVALID',
    reason: `${name} ${shownHeader(value)} ${why} (TQ_ERR_DELAY_INVALID)`,
  };
}
