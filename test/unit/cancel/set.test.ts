import { describe, expect, it } from 'vitest';
import { CancelSet } from '../../../src/common/cancel/set.js';

const DAY = 24 * 3600 * 1000;

describe('CancelSet', () => {
  it('knows an id once added, and says whether an add was new', () => {
    const set = new CancelSet(7 * DAY);
    const now = Date.parse('2026-12-06T00:00:00Z');
    expect(set.has('a', now)).toBe(false);
    expect(set.add('a', now - 1000, now)).toBe(true);
    expect(set.add('a', now - 500, now)).toBe(false);
    expect(set.has('a', now)).toBe(true);
    expect(set.has('b', now)).toBe(false);
    expect(set.size).toBe(1);
  });

  it('ignores a cancel older than the retention', () => {
    const set = new CancelSet(7 * DAY);
    const now = Date.parse('2026-12-06T00:00:00Z');
    expect(set.add('old', now - 8 * DAY, now)).toBe(false);
    expect(set.has('old', now)).toBe(false);
  });

  it('forgets a cancel once it is past the retention, as the stream does', () => {
    const set = new CancelSet(7 * DAY);
    const then = Date.parse('2026-12-01T00:00:00Z');
    set.add('a', then, then);
    set.add('b', then + 6 * DAY, then + 6 * DAY);
    expect(set.has('a', then + 7 * DAY)).toBe(true);
    expect(set.has('a', then + 7 * DAY + 1)).toBe(false);
    set.prune(then + 7 * DAY + 1);
    expect(set.size).toBe(1);
    expect(set.has('b', then + 7 * DAY + 1)).toBe(true);
  });

  it('prunes on its own as cancels keep coming', () => {
    const set = new CancelSet(1000);
    for (let i = 0; i < 1024; i++) set.add(`old-${i}`, 0, 0);
    for (let i = 0; i < 1024; i++) set.add(`new-${i}`, 5000, 5000);
    expect(set.size).toBe(1024);
  });
});
