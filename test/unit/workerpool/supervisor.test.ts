import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/common/amqp/backoff.js';
import { RecyclePolicy } from '../../../src/workerpool/child/recycle-policy.js';
import { RestartIntensity } from '../../../src/workerpool/supervisor/intensity.js';
import {
  type ChildEvent,
  type ChildState,
  exitMeaning,
  isActive,
  transition,
} from '../../../src/workerpool/supervisor/states.js';

const STATES: ChildState[] = ['starting', 'running', 'retiring', 'stopping', 'exited'];
const EVENTS: ChildEvent[] = ['ready', 'recycle', 'stop', 'exit'];

describe('child state table', () => {
  it('has exactly these transitions; every other event is ignored', () => {
    const table = Object.fromEntries(
      STATES.map((from) => [
        from,
        Object.fromEntries(
          EVENTS.map((event) => [event, transition(from, event)]).filter(([, to]) => to),
        ),
      ]),
    );
    expect(table).toEqual({
      starting: { ready: 'running', stop: 'stopping', exit: 'exited' },
      running: { recycle: 'retiring', stop: 'stopping', exit: 'exited' },
      retiring: { stop: 'stopping', exit: 'exited' },
      stopping: { exit: 'exited' },
      exited: {},
    });
  });

  it('counts only starting and running children as active', () => {
    expect(STATES.filter(isActive)).toEqual(['starting', 'running']);
  });

  it('judges an exit by the state it happened in', () => {
    expect(STATES.map((state) => exitMeaning(state))).toEqual([
      'startup-failure',
      'crash',
      'planned',
      'planned',
      'planned',
    ]);
  });
});

describe('RestartIntensity', () => {
  it('allows maxRestarts within the period, refuses the next, and forgets old ones', () => {
    const intensity = new RestartIntensity(3, 10_000);
    expect([0, 1000, 2000].map((t) => intensity.record(t))).toEqual([true, true, true]);
    expect(intensity.record(3000)).toBe(false);
    expect(intensity.recent(3000)).toBe(4);
    // 10 s after the first two, they no longer count.
    expect(intensity.recent(11_500)).toBe(2);
    expect(intensity.record(11_500)).toBe(true);
  });
});

describe('restart backoff', () => {
  it('grows exponentially within [50 %, 100 %] of the capped value', () => {
    const options = { baseMs: 500, maxMs: 30_000 };
    for (let attempt = 0; attempt < 10; attempt++) {
      const capped = Math.min(30_000, 500 * 2 ** attempt);
      for (let sample = 0; sample < 50; sample++) {
        const delay = backoffDelay(attempt, options);
        expect(delay).toBeGreaterThanOrEqual(capped / 2);
        expect(delay).toBeLessThanOrEqual(capped);
      }
    }
  });
});

describe('RecyclePolicy', () => {
  it('asks for a successor one task before max_tasks_per_child and stops at the limit', () => {
    const policy = new RecyclePolicy(3, undefined);
    expect(policy.taken()).toEqual({ askSuccessor: undefined, last: false });
    expect(policy.taken()).toEqual({
      askSuccessor: 'max_tasks_per_child 3 reached',
      last: false,
    });
    expect(policy.taken()).toEqual({ askSuccessor: undefined, last: true });
  });

  it('with max_tasks_per_child = 1 asks and stops on the first task', () => {
    expect(new RecyclePolicy(1, undefined).taken()).toEqual({
      askSuccessor: 'max_tasks_per_child 1 reached',
      last: true,
    });
  });

  it('asks for a successor near max_memory_per_child and stops taking tasks above it', () => {
    const policy = new RecyclePolicy(undefined, 100);
    const MiB = 1024 * 1024;
    const none = { askSuccessor: undefined, stopTaking: undefined };
    expect(policy.finished(89 * MiB)).toEqual(none);
    expect(policy.finished(95 * MiB)).toEqual({
      askSuccessor: 'max_memory_per_child: RSS 95 MiB near 100 MiB',
      stopTaking: undefined,
    });
    expect(policy.finished(101 * MiB)).toEqual({
      askSuccessor: undefined, // asked once already
      stopTaking: 'max_memory_per_child: RSS 101 MiB > 100 MiB',
    });
  });

  it('asks and stops at once when one task jumps past max_memory_per_child', () => {
    const policy = new RecyclePolicy(undefined, 100);
    expect(policy.finished(300 * 1024 * 1024)).toEqual({
      askSuccessor: 'max_memory_per_child: RSS 300 MiB > 100 MiB',
      stopTaking: 'max_memory_per_child: RSS 300 MiB > 100 MiB',
    });
  });

  it('never recycles without limits', () => {
    const policy = new RecyclePolicy(undefined, undefined);
    for (let n = 0; n < 1000; n++) expect(policy.taken().askSuccessor).toBeUndefined();
    expect(policy.finished(10_000 * 1024 * 1024)).toEqual({
      askSuccessor: undefined,
      stopTaking: undefined,
    });
  });
});
