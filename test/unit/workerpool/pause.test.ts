import { describe, expect, it } from 'vitest';
import { RestartIntensity } from '../../../src/workerpool/supervisor/intensity.js';
import { GroupPause } from '../../../src/workerpool/supervisor/pause.js';
import { exitMeaning } from '../../../src/workerpool/supervisor/states.js';

describe('GroupPause', () => {
  it('starts short and doubles on each trip in a row, up to its cap', () => {
    const pause = new GroupPause(5_000, 300_000, 60_000);
    const pauses = Array.from({ length: 9 }, (_, n) => pause.tripped(n * 1000));
    expect(pauses).toEqual([
      5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000,
    ]);
  });

  it('starts short again once the group ran with all its children for healthyResetMs', () => {
    const pause = new GroupPause(5_000, 300_000, 60_000);
    pause.tripped(0);
    pause.tripped(10_000);
    pause.healthy(30_000);
    // Healthy, but not long enough: the next trip still doubles.
    expect(pause.unhealthy(80_000)).toBe(false);
    expect(pause.tripped(81_000)).toBe(20_000);
    pause.healthy(100_000);
    pause.healthy(130_000); // still the same healthy run, since 100 s
    expect(pause.unhealthy(160_000)).toBe(true);
    expect(pause.trips).toBe(0);
    expect(pause.tripped(161_000)).toBe(5_000);
  });

  it('does not count a healthy run that a trip interrupted', () => {
    const pause = new GroupPause(5_000, 300_000, 60_000);
    pause.tripped(0);
    pause.healthy(10_000);
    expect(pause.tripped(20_000)).toBe(10_000);
    expect(pause.unhealthy(200_000)).toBe(false); // the run ended at the trip
    expect(pause.tripped(200_000)).toBe(20_000);
  });
});

describe('kills from outside', () => {
  it('are not startup failures of the plugin, but count towards the intensity', () => {
    expect(exitMeaning('starting', true)).toBe('killed');
    expect(exitMeaning('starting', false)).toBe('startup-failure');
    expect(exitMeaning('running', true)).toBe('crash');
    const intensity = new RestartIntensity(2, 10_000);
    expect(intensity.record(0, true)).toBe(true);
    expect(intensity.record(1, true)).toBe(true);
    expect(intensity.onlyFromOutside(2)).toBe(true);
    expect(intensity.record(2, false)).toBe(false);
    expect(intensity.onlyFromOutside(3)).toBe(false);
    // The failure of its own ages out of the period; the outside kill after it stays.
    intensity.reset();
    intensity.record(0, false);
    intensity.record(5_000, true);
    expect(intensity.onlyFromOutside(11_000)).toBe(true);
  });
});
