import { describe, expect, it } from 'vitest';
import { type Sample, soakGrowth, warmupSeconds } from '../../../bench/src/soak-growth.js';

/** One sample a minute from t=0, each role's RSS given per minute. */
function minutes(series: Record<string, Array<number | null>>): Sample[] {
  const length = Math.max(...Object.values(series).map((values) => values.length));
  return Array.from({ length }, (_, i) => ({
    atS: i * 60,
    rssMiB: Object.fromEntries(
      Object.entries(series).map(([role, values]) => [role, values[i] ?? null]),
    ),
  }));
}

describe('soakGrowth', () => {
  it('counts from the first sample after the warm-up, not from the start', () => {
    const growth = soakGrowth(minutes({ child: [40, 60, 60, 61] }), 60);
    expect(growth?.endToEndMiB).toEqual({ child: 1 });
    expect(growth?.lines[0]).toBe('RSS growth after warm-up, t=60 s → t=180 s:');
    expect(growth?.steadyMiB).toBeUndefined(); // too few samples for medians at each end
  });

  it('tells a swing in the last minute from a steady climb', () => {
    const flat = [60, 64, 60, 60, 61, 60, 61, 60, 60, 61, 60, 65];
    const climbing = [60, 60, 61, 61, 62, 62, 63, 63, 64, 64, 65, 65];
    const growth = soakGrowth(minutes({ dispatcher: flat, child: climbing }), 60);
    expect(growth?.endToEndMiB).toEqual({ dispatcher: 1, child: 5 });
    // samples 1–5 against 7–11 (after the warm-up): medians 60 → 60 and 61 → 64
    expect(growth?.steadyMiB).toEqual({ dispatcher: 0, child: 3 });
    expect(growth?.lines[1]).toContain('64.0 → 65.0 MiB: +1.0 MiB (+1.6 %) end to end');
    expect(growth?.lines[2]).toContain('61.0 → 64.0 MiB: +3.0 MiB (+4.9 %) median of 5');
  });

  it('reports a process that went away instead of a growth', () => {
    const growth = soakGrowth(minutes({ child1: [60, 60, null, 60], pool: [50, 50, 50, 50] }), 60);
    expect(growth?.endToEndMiB).toEqual({ child1: null, pool: 0 });
    expect(growth?.lines).toContain('  child1     gone during the soak');
  });

  it('has nothing to say with a single sample after the warm-up', () => {
    expect(soakGrowth(minutes({ pool: [50, 50] }), 60)).toBeUndefined();
  });
});

describe('warmupSeconds', () => {
  it('is a third of the soak unless given', () => {
    expect(warmupSeconds(3600, undefined)).toBe(1200);
    expect(warmupSeconds(100, undefined)).toBe(33);
    expect(warmupSeconds(3600, 60)).toBe(60);
  });
});

describe('soakGrowth labels', () => {
  it('names what the growth is counted from', () => {
    const growth = soakGrowth(minutes({ pool: [50, 50, 51] }), 60, 'after the first minute');
    expect(growth?.lines[0]).toBe('RSS growth after the first minute, t=60 s → t=120 s:');
  });
});
