import { describe, expect, it } from 'vitest';
import { cpuTicks, parseCpuTicks, stealPercent } from '../../../bench/src/steal.js';

const STAT = (steal: number, idle: number) =>
  `cpu  81394 0 34131 ${idle} 1976 0 7710 ${steal} 0 0\n` +
  'cpu0 40000 0 17000 68000 900 0 3800 450 0 0\n' +
  'intr 123 4 5\n';

describe('steal time', () => {
  it("reads the machine's line of /proc/stat, not a CPU's", () => {
    expect(parseCpuTicks(STAT(908, 136586))).toEqual({
      steal: 908,
      total: 81394 + 34131 + 136586 + 1976 + 7710 + 908,
    });
  });

  it('gives the per cent of the CPU time stolen between two readings', () => {
    const before = parseCpuTicks(STAT(900, 1000));
    // 200 ticks went by: 50 stolen, 150 idle.
    const after = parseCpuTicks(STAT(950, 1150));
    expect(stealPercent(before, after)).toBe(25);
    expect(stealPercent(before, before)).toBe(0);
  });

  it('refuses a text without the machine line', () => {
    expect(() => parseCpuTicks('cpu0 1 2 3 4 5 6 7 8\n')).toThrow(/no "cpu " line/);
    expect(() => parseCpuTicks('cpu  1 2 3\n')).toThrow(/cannot read/);
  });

  it('reads this machine', () => {
    const now = cpuTicks();
    expect(now.total).toBeGreaterThan(0);
    expect(now.steal).toBeGreaterThanOrEqual(0);
  });
});
