import { describe, expect, it } from 'vitest';
import { type Headers, ReusableHeaders } from '../../../src/common/amqp/reusable-headers.js';

/** What amqplib encodes: it wraps the headers in `Object.create` and reads them with for-in. */
function asAmqplibReadsIt(table: Headers): Array<[string, unknown]> {
  const wrapped = Object.create(table) as Headers;
  const seen: Array<[string, unknown]> = [];
  for (const key in wrapped) if (wrapped[key] !== undefined) seen.push([key, wrapped[key]]);
  return seen;
}

describe('ReusableHeaders', () => {
  it('lends an object that reads like the headers, names in the same order', () => {
    const reusable = new ReusableHeaders();
    const headers = { b: 1, a: 'two', '7': [3], c: { d: 4 }, e: undefined };
    const seen = reusable.lend(headers, asAmqplibReadsIt);
    expect(seen).toEqual(Object.entries(headers).filter(([, v]) => v !== undefined));
    expect(seen.map(([k]) => k)).toEqual(['7', 'b', 'a', 'c']);
  });

  it('lends the same object again for the same names, with the new values', () => {
    const reusable = new ReusableHeaders();
    const first = reusable.lend({ x: 1, y: 'a' }, (table) => table);
    const seen = reusable.lend({ x: 2, y: 'b' }, (table) => {
      expect(table).toBe(first);
      return asAmqplibReadsIt(table);
    });
    expect(seen).toEqual([
      ['x', 2],
      ['y', 'b'],
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
    expect(reusable.lend({ y: 5, x: 6 }, asAmqplibReadsIt)).toEqual([
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
    expect(reusable.lend(headers, asAmqplibReadsIt)).toEqual([
      ['__proto__', 'value'],
      ['x', 1],
    ]);
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
    expect(reusable.lend({ h0: 'again' }, asAmqplibReadsIt)).toEqual([['h0', 'again']]);
  });
});
