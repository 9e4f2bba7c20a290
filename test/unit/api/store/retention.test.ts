import { describe, expect, it } from 'vitest';
import { DEFAULT_RETENTION, startRetention } from '../../../../src/api/store/retention.js';
import type { RetentionPolicy, TaskStore } from '../../../../src/api/store/types.js';

describe('retention', () => {
  it('keeps failures longer than successes by default', () => {
    const keep = DEFAULT_RETENTION.keepSeconds;
    expect(keep.failed).toBeGreaterThan(keep.succeeded!);
    expect(keep.poisoned).toBeGreaterThan(keep.succeeded!);
  });

  it('runs one sweep at a time and hands it the policy and the time', async () => {
    const calls: [RetentionPolicy, string][] = [];
    let release: (n: number) => void = () => {};
    const store = {
      sweep: (policy: RetentionPolicy, now: string) => {
        calls.push([policy, now]);
        return new Promise<number>((resolve) => {
          release = resolve;
        });
      },
    } as unknown as TaskStore;
    const sweeper = startRetention(store, DEFAULT_RETENTION, {
      intervalMs: 3_600_000,
      now: () => new Date('2026-01-01T00:00:00.000Z'),
    });
    const first = sweeper.sweepNow();
    const second = sweeper.sweepNow();
    expect(calls).toEqual([[DEFAULT_RETENTION, '2026-01-01T00:00:00.000Z']]);
    release(3);
    expect(await first).toBe(3);
    expect(await second).toBe(3);
    await sweeper.stop();
  });
});
