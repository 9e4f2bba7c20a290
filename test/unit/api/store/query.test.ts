import { describe, expect, it } from 'vitest';
import {
  decodeCursor,
  encodeCursor,
  fieldOf,
  fieldPathParts,
} from '../../../../src/api/store/query.js';

describe('cursor', () => {
  it('round-trips a key and refuses what it did not hand out', () => {
    const key = { createdAt: '2026-01-01T00:00:00.000Z', id: 'a"b' };
    expect(decodeCursor(encodeCursor(key))).toEqual(key);
    for (const bad of ['', 'x', Buffer.from('[1,2]').toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrow(
        expect.objectContaining({ code: 'TQ_ERR_STORE_QUERY' }),
      );
    }
  });
});

describe('field paths', () => {
  it('takes dotted names and refuses anything a query could be built from', () => {
    expect(fieldPathParts('fields.repo_name-1')).toEqual(['fields', 'repo_name-1']);
    for (const bad of ['', 'a..b', "a'b", 'a b', '$.a', 'a.']) {
      expect(() => fieldPathParts(bad)).toThrow(
        expect.objectContaining({ code: 'TQ_ERR_STORE_QUERY' }),
      );
    }
  });

  it('finds the value of a path, undefined through arrays and scalars', () => {
    expect(fieldOf({ a: { b: 1 } }, 'a.b')).toBe(1);
    expect(fieldOf({ a: [{ b: 1 }] }, 'a.0.b')).toBeUndefined();
    expect(fieldOf({ a: 1 }, 'a.b')).toBeUndefined();
  });
});
