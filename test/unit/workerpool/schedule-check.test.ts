import type { MessageProperties } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { MAX_DELAY_MS } from '../../../src/common/amqp/delay-names.js';
import { EXPIRES_AT_HEADER, NOT_BEFORE_HEADER } from '../../../src/common/amqp/wire.js';
import { hasCode } from '../../../src/common/errors.js';
import { EARLY_TOLERANCE_MS, scheduleCheck } from '../../../src/workerpool/child/schedule-check.js';

const NOW = Date.parse('2026-12-07T05:00:00.000Z');
const clock = () => NOW;
const iso = (ms: number) => new Date(ms).toISOString();
const withHeaders = (headers?: Record<string, unknown>) => ({ headers }) as MessageProperties;

describe('child schedule check', () => {
  it('lets a task without the headers run, without reading the clock', () => {
    const noClock = () => {
      throw new Error('clock read');
    };
    expect(scheduleCheck(withHeaders(undefined), noClock)).toBeUndefined();
    expect(scheduleCheck(withHeaders({ 'x-other': 1 }), noClock)).toBeUndefined();
  });

  it('refuses to run a task at or past its deadline, and runs one before it', () => {
    expect(scheduleCheck(withHeaders({ [EXPIRES_AT_HEADER]: iso(NOW) }), clock)).toEqual({
      kind: 'expired',
      expiresAt: iso(NOW),
    });
    expect(
      scheduleCheck(withHeaders({ [EXPIRES_AT_HEADER]: iso(NOW + 1) }), clock),
    ).toBeUndefined();
  });

  it('sends back a task more than the tolerance early, runs one within it', () => {
    const early = NOW + EARLY_TOLERANCE_MS + 1;
    expect(scheduleCheck(withHeaders({ [NOT_BEFORE_HEADER]: iso(early) }), clock)).toEqual({
      kind: 'early',
      dueMs: early,
    });
    const close = NOW + EARLY_TOLERANCE_MS;
    expect(scheduleCheck(withHeaders({ [NOT_BEFORE_HEADER]: iso(close) }), clock)).toBeUndefined();
    expect(
      scheduleCheck(withHeaders({ [NOT_BEFORE_HEADER]: iso(NOW - 5) }), clock),
    ).toBeUndefined();
  });

  it('answers a task both early and expired as expired: it would only come back to be refused', () => {
    const both = { [NOT_BEFORE_HEADER]: iso(NOW + 60_000), [EXPIRES_AT_HEADER]: iso(NOW - 1) };
    expect(scheduleCheck(withHeaders(both), clock)).toMatchObject({ kind: 'expired' });
  });

  it('takes a header that is not a time for an unreadable task (TQ_ERR_DELAY_INVALID)', () => {
    const tooFar = iso(NOW + MAX_DELAY_MS + 61_000);
    for (const headers of [
      { [NOT_BEFORE_HEADER]: 'later' },
      { [EXPIRES_AT_HEADER]: 17 },
      { [NOT_BEFORE_HEADER]: tooFar },
    ]) {
      const verdict = scheduleCheck(withHeaders(headers), clock);
      expect(verdict?.kind).toBe('unreadable');
      expect(hasCode((verdict as { error: unknown }).error, 'TQ_ERR_DELAY_INVALID')).toBe(true);
    }
  });
});
