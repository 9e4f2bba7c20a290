import { describe, expect, it } from 'vitest';
import { MAX_BUCKETS, throughputSpan } from '../../../src/api/routes/stats.js';
import { denseBuckets } from '../../../src/api/store/throughput.js';
import { hasCode } from '../../../src/common/errors.js';

const NOW = Date.parse('2026-12-07T01:59:30.000Z');

describe('throughputSpan', () => {
  it('defaults to the last hour, aligned to the step, up to the end of the bucket of now', () => {
    expect(throughputSpan(undefined, 60, NOW)).toEqual({
      since: '2026-12-07T00:59:00.000Z',
      until: '2026-12-07T02:00:00.000Z',
    });
    expect(throughputSpan('2026-12-07T01:00:00Z', 60, NOW)).toEqual({
      since: '2026-12-07T01:00:00.000Z',
      until: '2026-12-07T02:00:00.000Z',
    });
    expect(throughputSpan('2026-12-06T10:17:00Z', 3600, NOW)).toEqual({
      since: '2026-12-06T10:00:00.000Z',
      until: '2026-12-07T02:00:00.000Z',
    });
  });

  it('refuses more than MAX_BUCKETS buckets, a since to come, and a since not ISO', () => {
    const refused = (since: string, step: number) => {
      try {
        throughputSpan(since, step, NOW);
      } catch (err) {
        return hasCode(err, 'TQ_ERR_API_INVALID_REQUEST');
      }
      return false;
    };
    // 1440 buckets of a minute: exactly allowed; one more is not.
    const first = new Date(NOW - (MAX_BUCKETS - 1) * 60_000).toISOString();
    expect(refused(first, 60)).toBe(false);
    expect(refused(new Date(Date.parse(first) - 60_000).toISOString(), 60)).toBe(true);
    expect(refused('2026-12-07T03:00:00Z', 60)).toBe(true);
    expect(refused('yesterday', 60)).toBe(true);
  });
});

describe('denseBuckets', () => {
  it('every bucket oldest first, zeros included, counts by final state', () => {
    const since = '2026-12-07T01:00:00.000Z';
    const t = Date.parse(since) / 1000;
    const buckets = denseBuckets(since, '2026-12-07T01:03:00.000Z', 60, [
      { bucket: t, state: 'succeeded', count: 3 },
      { bucket: t + 120, state: 'failed', count: 1 },
      { bucket: t + 120, state: 'poisoned', count: 2 },
      { bucket: t + 600, state: 'failed', count: 9 }, // outside: ignored
    ]);
    const zero = {
      succeeded: 0,
      failed: 0,
      poisoned: 0,
      invalid: 0,
      expired: 0,
      cancelled: 0,
      incomplete: 0,
    };
    expect(buckets).toEqual([
      { at: '2026-12-07T01:00:00.000Z', ...zero, succeeded: 3 },
      { at: '2026-12-07T01:01:00.000Z', ...zero },
      { at: '2026-12-07T01:02:00.000Z', ...zero, failed: 1, poisoned: 2 },
    ]);
  });
});
