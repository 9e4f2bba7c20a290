import { describe, expect, it } from 'vitest';
import { SharedAnswer } from '../../../src/api/routes/shared-answer.js';

describe('SharedAnswer', () => {
  it('does the work once for the requests in flight and those within the window', async () => {
    let now = 1000;
    let runs = 0;
    const shared = new SharedAnswer<number>(2000, () => now);
    const work = async () => ++runs;
    const [a, b] = await Promise.all([shared.get(work), shared.get(work)]);
    expect([a, b, runs]).toEqual([1, 1, 1]);
    now += 1999;
    expect(await shared.get(work)).toBe(1);
    now += 1;
    expect(await shared.get(work)).toBe(2);
    expect(runs).toBe(2);
  });

  it('keeps no failure: the next request does the work again', async () => {
    let runs = 0;
    const shared = new SharedAnswer<number>(60_000);
    const failing = async () => {
      runs++;
      throw new Error('broker down');
    };
    await expect(shared.get(failing)).rejects.toThrow('broker down');
    expect(await shared.get(async () => ++runs)).toBe(2);
  });
});
