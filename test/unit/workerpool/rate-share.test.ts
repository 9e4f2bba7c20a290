import { describe, expect, it } from 'vitest';
import {
  IDLE_AFTER_MS,
  MAX_CATCH_UP_MS,
  MAX_TICK_MS,
  MIN_TICK_MS,
  RECHECK_JITTER,
  RECHECK_MS,
  recheckDelayMs,
  TokenShare,
  tokenLifetimeMs,
} from '../../../src/workerpool/child/rate-share.js';

/** Ticks `share` every `tickMs` from `from` to `to` and sums the tokens minted. */
function mintOver(share: TokenShare, from: number, to: number, tickMs: number): number {
  let minted = 0;
  for (let t = from + tickMs; t < to; t += tickMs) minted += share.take(t);
  return minted + share.take(to);
}

describe('TokenShare', () => {
  it('refuses a rate that is not a number above 0', () => {
    for (const rate of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => new TokenShare(rate, 0)).toThrow(RangeError);
  });

  it('mints the whole rate alone, and its share 1/N with N consumers', () => {
    const alone = new TokenShare(20, 0);
    expect(mintOver(alone, 0, 10_000, 50)).toBe(200);
    const oneOfFour = new TokenShare(20, 0);
    oneOfFour.setConsumers(4, 0);
    expect(oneOfFour.share).toBe(5);
    expect(mintOver(oneOfFour, 0, 10_000, 50)).toBe(50);
  });

  it('shares of N children add up to the rate, whatever N', () => {
    for (const n of [1, 2, 3, 7, 13]) {
      const children = Array.from({ length: n }, () => new TokenShare(20, 0));
      for (const c of children) c.setConsumers(n, 0);
      const total = children.reduce((sum, c) => sum + mintOver(c, 0, 60_000, 37), 0);
      // Each child may keep up to one token in its carry at the end (less, but for float rounding).
      expect(total).toBeGreaterThanOrEqual(1200 - n);
      expect(total).toBeLessThanOrEqual(1200);
    }
  });

  it('carries fractions: a share of 0.3 a second mints a token every 3.3 s', () => {
    const share = new TokenShare(0.3, 0);
    const at: number[] = [];
    for (let t = 100; t <= 10_000; t += 100) if (share.take(t) > 0) at.push(t);
    expect(at).toEqual([3400, 6700, 10_000]);
  });

  it('mints what a late timer owes, counted by the clock', () => {
    const share = new TokenShare(10, 0);
    expect(share.take(100)).toBe(1);
    // The next tick comes 450 ms late: 4.5 tokens owed, 4 minted, the half kept.
    expect(share.take(550)).toBe(4);
    expect(share.carry).toBeCloseTo(0.5);
    expect(share.take(600)).toBe(1);
  });

  it('forgives time beyond MAX_CATCH_UP_MS (a stalled event loop mints one second, not a flood)', () => {
    const share = new TokenShare(10, 0);
    expect(share.take(30_000)).toBe((10 * MAX_CATCH_UP_MS) / 1000);
  });

  it('keeps what was owed at the old share when the count changes', () => {
    const share = new TokenShare(10, 0);
    // 500 ms alone: 5 tokens owed; then 4 consumers for 1000 ms: 2.5 more.
    share.setConsumers(4, 500);
    expect(share.take(1500)).toBe(7);
    expect(share.carry).toBeCloseTo(0.5);
  });

  it('takes a count of 0 as 1 (its own consumer not counted yet)', () => {
    const share = new TokenShare(6, 0);
    share.setConsumers(0, 0);
    expect(share.consumers).toBe(1);
    expect(share.share).toBe(6);
  });

  it('reset forgets what was owed', () => {
    const share = new TokenShare(10, 0);
    share.setConsumers(1, 550);
    share.reset(5000);
    expect(share.take(5000)).toBe(0);
    expect(share.carry).toBe(0);
  });

  it('does not mint for a clock that goes back', () => {
    const share = new TokenShare(10, 1000);
    expect(share.take(500)).toBe(0);
    expect(share.take(1100)).toBe(1);
  });

  it('ticks about once a token, within its bounds', () => {
    expect(new TokenShare(20, 0).tickMs).toBe(50);
    expect(new TokenShare(5000, 0).tickMs).toBe(MIN_TICK_MS);
    expect(new TokenShare(0.5, 0).tickMs).toBe(MAX_TICK_MS);
  });
});

describe('TokenShare when the tasks run out', () => {
  it('stops minting once gets found no task for IDLE_AFTER_MS, not before', () => {
    const share = new TokenShare(10, 0);
    share.found(500);
    expect(share.empty(500 + IDLE_AFTER_MS - 1)).toBe(false);
    expect(share.idle).toBe(false);
    expect(share.empty(500 + IDLE_AFTER_MS)).toBe(true);
    expect(share.idle).toBe(true);
    // Said once: the next empty get changes nothing.
    expect(share.empty(5000)).toBe(false);
    expect(share.take(5000)).toBe(0);
    expect(share.take(9000)).toBe(0);
  });

  it('a task found keeps it minting: a trickle of tasks is never idle', () => {
    const share = new TokenShare(10, 0);
    for (let t = 0; t < 10_000; t += 900) {
      share.found(t);
      expect(share.empty(t + 800)).toBe(false);
    }
  });

  it('owes nothing for its idle time when it resumes', () => {
    const share = new TokenShare(10, 0);
    expect(share.empty(IDLE_AFTER_MS)).toBe(true);
    share.setConsumers(2, 20_000);
    share.resume(30_000);
    expect(share.idle).toBe(false);
    expect(share.take(30_000)).toBe(0);
    // 5 a second from the resume on.
    expect(share.take(31_000)).toBe(5);
  });
});

describe('token lifetime and recheck', () => {
  it('a token lives a quarter of a second, or twice the gap between two at low rates', () => {
    expect(tokenLifetimeMs(1000)).toBe(250);
    expect(tokenLifetimeMs(20)).toBe(250);
    expect(tokenLifetimeMs(8)).toBe(250);
    expect(tokenLifetimeMs(2)).toBe(1000);
    expect(tokenLifetimeMs(0.5)).toBe(4000);
    expect(tokenLifetimeMs(0.01)).toBe(200_000);
  });

  it('rechecks about every second, jittered both ways', () => {
    expect(recheckDelayMs(0)).toBe(RECHECK_MS * (1 - RECHECK_JITTER));
    expect(recheckDelayMs(0.5)).toBe(RECHECK_MS);
    expect(recheckDelayMs(0.999_999)).toBeLessThanOrEqual(RECHECK_MS * (1 + RECHECK_JITTER));
  });
});
