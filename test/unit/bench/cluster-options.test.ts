import { describe, expect, it } from 'vitest';
import { childrenOfHost, parseClusterOptions } from '../../../bench/src/cluster/options.js';

describe('bench:cluster options', () => {
  it('defaults to 1, 2 and 3 hosts, K = 2 per host, both paths', () => {
    const o = parseClusterOptions([])!;
    expect(o.hosts).toEqual([1, 2, 3]);
    expect(o.kMode).toBe('per-host');
    expect(o.paths).toEqual(['dispatcher', 'direct']);
    expect(o.busyWait).toBe(true);
    expect([1, 2, 3].map((n) => childrenOfHost(o, n, 0))).toEqual([2, 2, 2]);
  });

  it('spreads a total K over the hosts, the first ones taking the remainder', () => {
    const o = parseClusterOptions(['--k', '7', '--k-total'])!;
    expect([0, 1, 2].map((i) => childrenOfHost(o, 3, i))).toEqual([3, 2, 2]);
    expect([0, 1].map((i) => childrenOfHost(o, 2, i))).toEqual([4, 3]);
    expect(childrenOfHost(o, 1, 0)).toBe(7);
  });

  it('refuses sizes out of order or beyond three, a total K below the hosts, unknown paths', () => {
    expect(() => parseClusterOptions(['--hosts', '2,1'])).toThrow(/ascending/);
    expect(() => parseClusterOptions(['--hosts', '1,4'])).toThrow(/ascending/);
    expect(() => parseClusterOptions(['--k', '2', '--k-total'])).toThrow(/--k-total/);
    expect(() => parseClusterOptions(['--paths', 'relay'])).toThrow(/--paths/);
    expect(() => parseClusterOptions(['--tasks', '0'])).toThrow(/--tasks/);
    expect(() => parseClusterOptions(['--bogus'])).toThrow(/unknown option/);
  });

  it('says nothing and starts nothing for --help', () => {
    expect(parseClusterOptions(['--help'])).toBeUndefined();
  });
});
