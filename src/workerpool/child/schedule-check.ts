import type { MessageProperties } from 'amqplib';
import { NOT_BEFORE_SLACK_MS } from '../../common/amqp/delay.js';
import { MAX_DELAY_MS } from '../../common/amqp/delay-names.js';
import { headerTime, shownHeader } from '../../common/amqp/header-time.js';
import { EXPIRES_AT_HEADER, NOT_BEFORE_HEADER } from '../../common/amqp/wire.js';
import { TqError } from '../../common/errors.js';

/**
 * How early a task may arrive and still run: the ladder is never early by its own clock, so a
 * task ahead of its time by more than this came some other way (published straight to
 * `worker_<type>`, a delay above the ladder's longest, another host's clock ahead of this one's).
 */
export const EARLY_TOLERANCE_MS = 1_000;

/** What a task's not-before and deadline say about running it now (docs/delays.md). */
export type ScheduleVerdict =
  /** Past its deadline: not run, answered TQ_ERR_TASK_EXPIRED. */
  | { kind: 'expired'; expiresAt: string }
  /** Ahead of its time: back into the ladder until `dueMs`. */
  | { kind: 'early'; dueMs: number }
  /**
   * A header that is not a time, or a not-before beyond the longest delay (another client's):
   * parked unread like any unreadable task.
   */
  | { kind: 'unreadable'; error: TqError };

/**
 * Reads the task's not-before and expires-at headers against `now`: undefined when it may run
 * (the usual task has neither header: two lookups, no clock read). The deadline is checked
 * first: a task that is both early and expired would only come back to be refused.
 */
export function scheduleCheck(
  properties: MessageProperties,
  now: () => number = Date.now,
): ScheduleVerdict | undefined {
  const headers = properties.headers;
  if (headers === undefined) return undefined;
  const expiresAt = headers[EXPIRES_AT_HEADER];
  const notBefore = headers[NOT_BEFORE_HEADER];
  if (expiresAt === undefined && notBefore === undefined) return undefined;
  const at = now();
  if (expiresAt !== undefined) {
    const deadline = headerTime(expiresAt);
    if (deadline === undefined) return unreadable(EXPIRES_AT_HEADER, expiresAt, 'is not a time');
    if (deadline <= at) return { kind: 'expired', expiresAt: new Date(deadline).toISOString() };
  }
  if (notBefore !== undefined) {
    const due = headerTime(notBefore);
    if (due === undefined) return unreadable(NOT_BEFORE_HEADER, notBefore, 'is not a time');
    // Sent back, it would come back every 7 days, forever: refused as the dispatcher does.
    if (due - at > MAX_DELAY_MS + NOT_BEFORE_SLACK_MS)
      return unreadable(NOT_BEFORE_HEADER, notBefore, 'is more than 7 days ahead');
    if (due - at > EARLY_TOLERANCE_MS) return { kind: 'early', dueMs: due };
  }
  return undefined;
}

/** The error result's text of an expired task (CONTRACT: the sender is told, never dropped). */
export function expiredError(expiresAt: string): TqError {
  return new TqError(
    'TQ_ERR_TASK_EXPIRED',
    `task expired at ${expiresAt} before it started (TQ_ERR_TASK_EXPIRED): not run`,
  );
}

function unreadable(name: string, value: unknown, why: string): ScheduleVerdict {
  return {
    kind: 'unreadable',
    error: new TqError('TQ_ERR_DELAY_INVALID', `${name} ${shownHeader(value)} ${why}`),
  };
}
