import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/common/amqp/backoff.js';
import { RecyclePolicy } from '../../../src/workerpool/child/recycle-policy.js';
import { RestartIntensity } from '../../../src/workerpool/supervisor/intensity.js';
import {
  CHILD_INITIAL,
  type ChildEvent,
  type ChildState,
  exitMeaning,
  GROUP_INITIAL,
  type GroupEvent,
  type GroupState,
  groupTransition,
  isActive,
  transition,
} from '../../../src/workerpool/supervisor/states.js';

const STATES: ChildState[] = ['none', 'starting', 'running', 'retiring', 'stopping', 'exited'];
const EVENTS: ChildEvent[] = ['start', 'ready', 'recycle', 'stop', 'exit'];

/** The states reachable from `from` by any sequence of events. */
function reachable(from: ChildState): Set<ChildState> {
  const seen = new Set<ChildState>([from]);
  for (const state of seen)
    for (const event of EVENTS) {
      const to = transition(state, event);
      if (to) seen.add(to);
    }
  return seen;
}

describe('child state table', () => {
  it('starts every child in a state that only starting its process leaves', () => {
    expect(EVENTS.filter((event) => transition(CHILD_INITIAL, event))).toEqual(['start']);
    expect(isActive(CHILD_INITIAL)).toBe(false);
    expect(reachable(CHILD_INITIAL)).toEqual(new Set(STATES));
  });

  it('lets every started child end, and nothing follows its end', () => {
    for (const state of STATES.filter((s) => s !== CHILD_INITIAL && s !== 'exited'))
      expect(transition(state, 'exit')).toBe('exited');
    expect(reachable('exited')).toEqual(new Set(['exited']));
  });

  it('never brings back a child the pool asked to leave', () => {
    // Retiring or stopping: it leaves, it does not count again towards the wanted children.
    for (const leaving of ['retiring', 'stopping'] as const)
      expect([...reachable(leaving)].filter(isActive)).toEqual([]);
    expect(transition('stopping', 'recycle')).toBeUndefined();
    expect(transition('retiring', 'ready')).toBeUndefined();
  });

  it('recycles only a running child, and makes it ready only once', () => {
    expect(STATES.filter((state) => transition(state, 'recycle'))).toEqual(['running']);
    expect(STATES.filter((state) => transition(state, 'ready'))).toEqual(['starting']);
  });

  it('counts only starting and running children as active', () => {
    expect(STATES.filter(isActive)).toEqual(['starting', 'running']);
  });

  it('judges an exit by the state it happened in', () => {
    expect(STATES.slice(1).map((state) => exitMeaning(state))).toEqual([
      'startup-failure',
      'crash',
      'planned',
      'planned',
      'planned',
    ]);
    expect(exitMeaning('starting', true)).toBe('killed');
  });
});

const GROUP_STATES: GroupState[] = ['idle', 'serving', 'delaying', 'failed', 'stopping'];
const GROUP_EVENTS: GroupEvent[] = ['start', 'delay', 'delay-over', 'trip', 'retry', 'stop'];

describe('group state table', () => {
  it('stops from every state, for good', () => {
    for (const state of GROUP_STATES.filter((s) => s !== 'stopping'))
      expect(groupTransition(state, 'stop')).toBe('stopping');
    expect(GROUP_EVENTS.filter((event) => groupTransition('stopping', event))).toEqual([]);
  });

  it('leaves a failed group only by a retry or a stop; one timer state at a time', () => {
    expect(GROUP_EVENTS.filter((event) => groupTransition('failed', event))).toEqual([
      'retry',
      'stop',
    ]);
    // A second delay while delaying is not a state change: the pending restart stays the one.
    expect(groupTransition('delaying', 'delay')).toBeUndefined();
    expect(groupTransition('failed', 'delay')).toBeUndefined();
  });

  it('starts only from idle, the initial state', () => {
    expect(GROUP_STATES.filter((state) => groupTransition(state, 'start'))).toEqual([
      GROUP_INITIAL,
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
