import { describe, expect, it } from 'vitest';
import {
  CANCEL_MESSAGE_MAX_BYTES,
  encodeCancelMessage,
  parseCancelMessage,
} from '../../../src/common/cancel/message.js';

const at = '2026-12-06T23:00:00.000Z';
const parse = (value: unknown) =>
  parseCancelMessage(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
const code = (value: unknown) => {
  try {
    parse(value);
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'parsed';
};

describe('cancel messages', () => {
  it('reads back what it writes, cancels and marks', () => {
    const cancel = { v: 1, kind: 'cancel', taskId: 't-1', at, by: 'ops' } as const;
    const mark = { v: 1, kind: 'mark', id: 'm-1', at } as const;
    expect(parseCancelMessage(encodeCancelMessage(cancel))).toEqual(cancel);
    expect(parseCancelMessage(encodeCancelMessage(mark))).toEqual(mark);
  });

  it.each([
    ['not JSON', 'nope'],
    ['not an object', '[1]'],
    ['null', 'null'],
    ['another version', { v: 2, kind: 'cancel', taskId: 't', at, by: 'b' }],
    ['no version', { kind: 'cancel', taskId: 't', at, by: 'b' }],
    ['an unknown kind', { v: 1, kind: 'stop', taskId: 't', at, by: 'b' }],
    ['an unknown field', { v: 1, kind: 'cancel', taskId: 't', at, by: 'b', extra: 1 }],
    ['a field of the other kind', { v: 1, kind: 'mark', id: 'm', at, taskId: 't' }],
    ['no task id', { v: 1, kind: 'cancel', at, by: 'b' }],
    ['an empty task id', { v: 1, kind: 'cancel', taskId: '', at, by: 'b' }],
    ['a task id not a string', { v: 1, kind: 'cancel', taskId: 5, at, by: 'b' }],
    ['a task id too long', { v: 1, kind: 'cancel', taskId: 'x'.repeat(256), at, by: 'b' }],
    ['no by', { v: 1, kind: 'cancel', taskId: 't', at }],
    ['a time that is not ISO', { v: 1, kind: 'cancel', taskId: 't', at: 'yesterday', by: 'b' }],
    [
      'an impossible time',
      { v: 1, kind: 'cancel', taskId: 't', at: '2026-13-45T99:00:00Z', by: 'b' },
    ],
    ['a mark without id', { v: 1, kind: 'mark', at }],
  ])('refuses %s with TQ_ERR_CANCEL_INVALID', (_why, value) => {
    expect(code(value)).toBe('TQ_ERR_CANCEL_INVALID');
  });

  it('refuses a body above the bound before parsing it', () => {
    const big = JSON.stringify({
      v: 1,
      kind: 'cancel',
      taskId: 't',
      at,
      by: 'x'.repeat(CANCEL_MESSAGE_MAX_BYTES),
    });
    expect(code(big)).toBe('TQ_ERR_CANCEL_INVALID');
  });
});
