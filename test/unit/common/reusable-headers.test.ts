import { describe, expect, it } from 'vitest';
import { type Headers, ReusableHeaders } from '../../../src/common/amqp/reusable-headers.js';
import { wiredChannel } from './amqplib-channel.js';

/**
 * What amqplib sends for a message with `table` as its headers: published through amqplib's own
 * channel and encoder (amqplib-channel.ts), the frame decoded back by amqplib. ReusableHeaders is
 * correct only because amqplib wraps the headers with `Object.create`, reads them through the
 * prototype chain and encodes them before `publish` returns: an amqplib that changes any of it
 * fails here, not in production.
 */
function asAmqplibSendsIt(table: Headers): Array<[string, unknown]> {
  const wired = wiredChannel();
  wired.channel.publish('', 'q', Buffer.from('{}'), { headers: table }, () => {});
  const [properties] = wired.sentProperties();
  return Object.entries((properties?.headers ?? {}) as Headers);
}

describe('ReusableHeaders', () => {
  it('lends an object that reads like the headers, names in the same order', () => {
    const reusable = new ReusableHeaders();
    const headers = { b: 1, a: 'two', '7': [3], c: { d: 4 }, e: undefined };
    const seen = reusable.lend(headers, asAmqplibSendsIt);
    expect(seen).toEqual(Object.entries(headers).filter(([, v]) => v !== undefined));
    expect(seen.map(([k]) => k)).toEqual(['7', 'b', 'a', 'c']);
  });

  it('lends the same object again for the same names, with the new values', () => {
    const reusable = new ReusableHeaders();
    const first = reusable.lend({ x: 1, y: 'a' }, (table) => table);
    const seen = reusable.lend({ x: 2, y: 'b' }, (table) => {
      expect(table).toBe(first);
      return asAmqplibSendsIt(table);
    });
    expect(seen).toEqual([
      ['x', 2],
      ['y', 'b'],
    ]);
  });

  it('each message on one channel goes out with its own values: amqplib encodes before publish returns', () => {
    const reusable = new ReusableHeaders();
    const wired = wiredChannel();
    const send = (table: Headers) =>
      wired.channel.publish('', 'q', Buffer.from('{}'), { headers: table }, () => {});
    reusable.lend({ 'x-attempt': 1, 'x-who': 'first' }, send);
    reusable.lend({ 'x-attempt': 2, 'x-who': 'second' }, send);
    expect(wired.sentProperties().map((p) => p.headers)).toEqual([
      { 'x-attempt': 1, 'x-who': 'first' },
      { 'x-attempt': 2, 'x-who': 'second' },
    ]);
  });

  it('keeps nothing of a message once its send returned, or threw', () => {
    const reusable = new ReusableHeaders();
    const lent = reusable.lend({ x: 'big value' }, (table) => table);
    expect(lent.x).toBeUndefined();
    expect(() =>
      reusable.lend({ x: 'other' }, () => {
        throw new Error('encode failed');
      }),
    ).toThrow('encode failed');
    expect(lent.x).toBeUndefined();
    // And the slot is free again after the throw.
    expect(reusable.lend({ x: 3 }, (table) => table)).toBe(lent);
  });

  it('gives another list of names, or the same names in another order, its own object', () => {
    const reusable = new ReusableHeaders();
    const xy = reusable.lend({ x: 1, y: 2 }, (table) => table);
    const yx = reusable.lend({ y: 2, x: 1 }, (table) => table);
    const x = reusable.lend({ x: 1 }, (table) => table);
    expect(new Set([xy, yx, x]).size).toBe(3);
    // Back to a list lent before the last one: its own object again.
    expect(reusable.lend({ x: 7, y: 8 }, (table) => table)).toBe(xy);
    expect(reusable.lend({ y: 5, x: 6 }, asAmqplibSendsIt)).toEqual([
      ['y', 5],
      ['x', 6],
    ]);
  });

  it('hands over the headers themselves while their object is in use', () => {
    const reusable = new ReusableHeaders();
    const outer = { x: 'outer' };
    const inner = { x: 'inner' };
    reusable.lend(outer, (outerTable) => {
      expect(outerTable).not.toBe(outer);
      reusable.lend(inner, (innerTable) => expect(innerTable).toBe(inner));
      expect(outerTable.x).toBe('outer');
    });
  });

  it('does not mix up two lists of names that join alike', () => {
    const reusable = new ReusableHeaders();
    reusable.lend({ 'a\0b': 1 }, () => {});
    const headers = { a: 1, b: 2 };
    expect(reusable.lend(headers, (table) => table)).toBe(headers);
  });

  it('carries a header named __proto__ as a plain header', () => {
    const reusable = new ReusableHeaders();
    const headers = JSON.parse('{"__proto__": "value", "x": 1}') as Headers;
    const wired = wiredChannel();
    reusable.lend(headers, (table) =>
      wired.channel.publish('', 'q', Buffer.from('{}'), { headers: table }, () => {}),
    );
    // Read from the bytes: amqplib's decoder assigns into `{}`, where `__proto__` sets the
    // prototype. A field table entry is: name length, name, type tag, value ('S': u32 + UTF-8).
    const entry = Buffer.concat([
      Buffer.from([9]),
      Buffer.from('__proto__S'),
      Buffer.from([0, 0, 0, 5]),
      Buffer.from('value'),
    ]);
    expect(Buffer.concat(wired.frames).includes(entry)).toBe(true);
    expect(wired.sentProperties()[0]?.headers).toMatchObject({ x: 1 });
  });

  it('keeps at most 64 lists of names; past that, the headers go as they are', () => {
    const reusable = new ReusableHeaders();
    for (let n = 0; n < 64; n++) {
      const headers = { [`h${n}`]: n };
      expect(reusable.lend(headers, (table) => table)).not.toBe(headers);
    }
    const late = { late: true };
    expect(reusable.lend(late, (table) => table)).toBe(late);
    // The ones kept still serve.
    expect(reusable.lend({ h0: 'again' }, asAmqplibSendsIt)).toEqual([['h0', 'again']]);
  });
});
