import type { MessageProperties, Options } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { MAX_DELAY_MS } from '../../../src/common/amqp/delay-names.js';
import { EXPIRES_AT_HEADER, NOT_BEFORE_HEADER } from '../../../src/common/amqp/wire.js';
import {
  applyTiming,
  NOT_BEFORE_SLACK_MS,
  timingOf,
} from '../../../src/common/forward/schedule.js';

const NOW = Date.parse('2026-12-07T05:00:00.000Z');
const clock = () => NOW;
const iso = (ms: number) => new Date(ms).toISOString();
const props = (p: Partial<MessageProperties>) => p as MessageProperties;

describe('dispatcher timing of an input task', () => {
  it('is nothing for a task without headers or expiration, and reads no clock', () => {
    const noClock = () => {
      throw new Error('clock read');
    };
    expect(timingOf(props({}), noClock)).toBeUndefined();
    expect(timingOf(props({ headers: { other: 1 } }), noClock)).toBeUndefined();
  });

  it('sends a task due more than one unit ahead into the ladder, not one due sooner', () => {
    const later = timingOf(props({ headers: { [NOT_BEFORE_HEADER]: iso(NOW + 5000) } }), clock);
    expect(later).toEqual({ ok: true, dueMs: NOW + 5000, expiresAt: undefined });
    for (const due of [NOW + 100, NOW, NOW - 60_000]) {
      const soon = timingOf(props({ headers: { [NOT_BEFORE_HEADER]: iso(due) } }), clock);
      expect(soon).toEqual({ ok: true, dueMs: undefined, expiresAt: undefined });
    }
  });

  it('takes a due time up to 7 days and a minute ahead, refuses one further or unreadable', () => {
    const edge = NOW + MAX_DELAY_MS + NOT_BEFORE_SLACK_MS;
    expect(timingOf(props({ headers: { [NOT_BEFORE_HEADER]: iso(edge) } }), clock)).toMatchObject({
      ok: true,
      dueMs: edge,
    });
    for (const bad of [iso(edge + 1), 'tomorrow', 42, '']) {
      const refused = timingOf(props({ headers: { [NOT_BEFORE_HEADER]: bad } }), clock);
      expect(refused).toMatchObject({ ok: false, code: 'TQ_ERR_DELAY_INVALID' });
    }
    const badDeadline = timingOf(props({ headers: { [EXPIRES_AT_HEADER]: 'soon' } }), clock);
    expect(badDeadline).toMatchObject({ ok: false, code: 'TQ_ERR_DELAY_INVALID' });
    expect((badDeadline as { reason: string }).reason).toContain(EXPIRES_AT_HEADER);
  });

  it('turns an AMQP expiration into a deadline, unless the header says an earlier one', () => {
    expect(timingOf(props({ expiration: '30000' }), clock)).toEqual({
      ok: true,
      dueMs: undefined,
      expiresAt: iso(NOW + 30_000),
    });
    const earlier = { [EXPIRES_AT_HEADER]: iso(NOW + 1000) };
    expect(timingOf(props({ expiration: '30000', headers: earlier }), clock)).toMatchObject({
      expiresAt: iso(NOW + 1000),
    });
    const later = { [EXPIRES_AT_HEADER]: iso(NOW + 90_000) };
    expect(timingOf(props({ expiration: '30000', headers: later }), clock)).toMatchObject({
      expiresAt: iso(NOW + 30_000),
    });
  });

  it('forwards without expiration, the deadline in its header, the input headers unchanged', () => {
    const input = { keep: 'me' };
    const options: Options.Publish = { expiration: '30000', headers: input };
    applyTiming(options, { ok: true, dueMs: undefined, expiresAt: iso(NOW + 30_000) });
    expect(options.expiration).toBeUndefined();
    expect(options.headers).toEqual({ keep: 'me', [EXPIRES_AT_HEADER]: iso(NOW + 30_000) });
    expect(input).toEqual({ keep: 'me' });
  });
});
