import { describe, expect, it } from 'vitest';
import {
  DispatcherCounts,
  MAX_TYPE_LABELS,
  OTHER_TYPES,
  PARK_REASONS,
} from '../../../src/dispatcher/counts.js';

describe("DispatcherCounts: the dispatcher's labels stay bounded", () => {
  it('gives the first MAX_TYPE_LABELS types a label each with types = *, the rest one', () => {
    const counts = new DispatcherCounts(undefined);
    for (let n = 0; n < MAX_TYPE_LABELS + 50; n++) counts.forward(`t${n}`);
    counts.forward('t0');
    expect(counts.forwarded.size).toBe(MAX_TYPE_LABELS + 1);
    expect(counts.forwarded.get('t0')).toBe(2);
    expect(counts.forwarded.get(OTHER_TYPES)).toBe(50);
  });

  it('labels every listed type with a types list', () => {
    const listed = Array.from({ length: MAX_TYPE_LABELS + 5 }, (_, n) => `t${n}`);
    const counts = new DispatcherCounts(listed);
    for (const type of listed) counts.forward(type);
    expect(counts.forwarded.size).toBe(listed.length);
  });

  it('counts parked tasks by code, every known code from 0', () => {
    const counts = new DispatcherCounts(undefined);
    expect([...counts.parked.keys()]).toEqual(PARK_REASONS);
    counts.park('TQ_ERR_TASK_INVALID');
    expect(counts.parked.get('TQ_ERR_TASK_INVALID')).toBe(1);
    expect(counts.parked.get('TQ_ERR_TASK_TOO_LARGE')).toBe(0);
  });
});
