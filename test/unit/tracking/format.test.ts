import { describe, expect, it } from 'vitest';
import { RUN_HEADER } from '../../../src/common/amqp/wire.js';
import { hasCode } from '../../../src/common/errors.js';
import {
  COPY_CAP_BYTES,
  copyOfJson,
  copyOfText,
  cutUtf8,
  EVENT_MAX_BYTES,
  encodeEvent,
  parseEvent,
  type WireEvent,
} from '../../../src/common/tracking/index.js';
import { trackedRunOf } from '../../../src/common/tracking/publish.js';

const AT = '2026-12-06T21:00:00.000Z';
const base: WireEvent = { v: 1, event: 'started', taskId: 't1', type: 'echo', at: AT };
const body = (o: unknown) => Buffer.from(JSON.stringify(o));

function refused(input: Buffer): string {
  try {
    parseEvent(input);
  } catch (err) {
    expect(hasCode(err, 'TQ_ERR_EVENT_INVALID')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('encodeEvent / parseEvent', () => {
  it('round-trips every field of a final event', () => {
    const event: WireEvent = {
      ...base,
      event: 'poisoned',
      run: 3,
      attempt: 2,
      host: 'h',
      pid: 42,
      user: 'nobody',
      durationMs: 0,
      error: 'boom',
      errorCode: 'TQ_ERR_TASK_POISON',
      crashLog: ['a', 'b'],
      result: { fields: { x: 1 } },
    };
    expect(parseEvent(encodeEvent(event))).toEqual(event);
  });

  it('writes a raw JSON copy as it is, and leaves undefined fields out', () => {
    const copy = copyOfJson('{"fields":{"a":[1,2]}}');
    const encoded = encodeEvent({
      ...base,
      event: 'received',
      workitem: copy.value,
      pid: undefined,
    });
    expect(encoded.toString()).not.toContain('pid');
    expect(parseEvent(encoded).workitem).toEqual({ fields: { a: [1, 2] } });
    expect(copy.truncated).toBe(false);
  });

  it('cuts a copy above the cap to a string of at most the cap, at a character boundary', () => {
    const big = JSON.stringify({ s: 'é'.repeat(COPY_CAP_BYTES) });
    const copy = copyOfJson(big);
    expect(copy.truncated).toBe(true);
    expect(typeof copy.value).toBe('string');
    expect(Buffer.byteLength(copy.value as string)).toBeLessThanOrEqual(COPY_CAP_BYTES);
    expect(big.startsWith(copy.value as string)).toBe(true);
    const event = parseEvent(
      encodeEvent({ ...base, event: 'succeeded', result: copy.value, truncated: true }),
    );
    expect(event.truncated).toBe(true);
    expect(copyOfText('abc')).toEqual({ value: 'abc', truncated: false });
    expect(cutUtf8('aé', 2)).toBe('a');
  });

  it('refuses what is not a known v1 event', () => {
    expect(refused(Buffer.from('not json'))).toMatch(/not JSON/);
    expect(refused(body([1]))).toMatch(/not a JSON object/);
    expect(refused(body({ ...base, v: 2 }))).toMatch(/version/);
    expect(refused(body({ ...base, event: 'exploded' }))).toMatch(/unknown event/);
    expect(refused(body({ ...base, extra: 1 }))).toMatch(/unknown field extra/);
    expect(refused(body({ ...base, taskId: undefined }))).toMatch(/taskId is missing/);
    expect(refused(body({ ...base, type: '' }))).toMatch(/type is empty/);
    expect(refused(body({ ...base, at: 'yesterday' }))).toMatch(/at is not an ISO/);
    expect(refused(body({ ...base, attempt: 0 }))).toMatch(/attempt/);
    expect(refused(body({ ...base, pid: '1' }))).toMatch(/pid/);
    expect(refused(body({ ...base, taskId: 'x'.repeat(256) }))).toMatch(/taskId/);
    expect(refused(body({ ...base, error: 'x'.repeat(5000) }))).toMatch(/error/);
    expect(refused(body({ ...base, crashLog: 'one line' }))).toMatch(/crashLog/);
    expect(refused(body({ ...base, crashLog: Array(101).fill('x') }))).toMatch(/crashLog/);
    expect(refused(body({ ...base, workitem: {} }))).toMatch(/workitem on a started/);
    expect(refused(body({ ...base, event: 'received', result: {} }))).toMatch(/result on/);
    expect(refused(body({ ...base, event: 'cancelled', result: {} }))).toMatch(/result on/);
    // An expired task's final carries its error result (the input plus the error), as failed's.
    expect(parseEvent(body({ ...base, event: 'expired', result: { a: 1 } })).result).toEqual({
      a: 1,
    });
    expect(refused(body({ ...base, truncated: 'yes' }))).toMatch(/truncated/);
    expect(refused(Buffer.alloc(EVENT_MAX_BYTES + 1, 0x20))).toMatch(/bytes is above/);
    const huge = { ...base, event: 'received', workitem: { s: 'x'.repeat(COPY_CAP_BYTES * 7) } };
    expect(refused(body(huge))).toMatch(/workitem of \d+ bytes/);
  });

  it('takes an invalid task without a type', () => {
    expect(parseEvent(body({ ...base, event: 'invalid', type: '' })).type).toBe('');
  });

  it('reads the run of a retried task from its message, and refuses a run that is not ≥ 1', () => {
    expect(trackedRunOf({ headers: { [RUN_HEADER]: 2 } })).toBe(2);
    expect(trackedRunOf({ headers: { [RUN_HEADER]: '3' } })).toBe(3);
    for (const headers of [{}, { [RUN_HEADER]: 1 }, { [RUN_HEADER]: 'x' }, { [RUN_HEADER]: 2.5 }]) {
      expect(trackedRunOf({ headers })).toBeUndefined();
    }
    expect(trackedRunOf({ headers: undefined })).toBeUndefined();
    expect(refused(body({ ...base, run: 0 }))).toMatch(/run/);
    expect(refused(body({ ...base, run: '2' }))).toMatch(/run/);
  });
});
