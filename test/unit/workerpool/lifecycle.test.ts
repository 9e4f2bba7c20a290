import { describe, expect, it } from 'vitest';
import { type ChildState, canMove, Lifecycle } from '../../../src/workerpool/child/lifecycle.js';

const ALL: ChildState[] = ['starting', 'consuming', 'retiring', 'retired', 'stopping', 'stopped'];

/** A lifecycle brought to `state` by legal moves only. */
function at(state: ChildState): Lifecycle {
  const paths: Record<ChildState, ChildState[]> = {
    starting: [],
    consuming: ['consuming'],
    retiring: ['consuming', 'retiring'],
    retired: ['consuming', 'retiring', 'retired'],
    stopping: ['stopping'],
    stopped: ['stopping', 'stopped'],
  };
  const life = new Lifecycle();
  for (const next of paths[state]) life.to(next);
  expect(life.state).toBe(state);
  return life;
}

describe('the worker child lifecycle', () => {
  it('starts in starting, taking tasks and not stopping', () => {
    const life = new Lifecycle();
    expect(life.state).toBe('starting');
    expect(life.taking).toBe(true);
    expect(life.stopping).toBe(false);
  });

  it('lives a whole life: consume, retire, be retired, stop', () => {
    const life = new Lifecycle();
    life.to('consuming');
    expect(life.taking).toBe(true);
    life.to('retiring');
    expect(life.taking).toBe(false);
    expect(life.stopping).toBe(false);
    life.to('retired');
    life.to('stopping');
    expect(life.stopping).toBe(true);
    life.to('stopped');
    expect(life.state).toBe('stopped');
    expect(life.stopping).toBe(true);
  });

  it('retires before consume() resolved: the first delivery may be the last', () => {
    const life = new Lifecycle();
    life.to('retiring');
    expect(life.state).toBe('retiring');
  });

  it('can be told to stop from every state but the end, and stops only through stopping', () => {
    for (const state of ALL) {
      if (state === 'stopping' || state === 'stopped') continue;
      const life = at(state);
      expect(() => life.to('stopped')).toThrow(/illegal/);
      life.to('stopping');
      expect(life.stopping).toBe(true);
    }
  });

  it('never takes tasks again once it stopped taking them', () => {
    for (const from of ALL.filter((s) => !at(s).taking)) {
      for (const to of ['starting', 'consuming'] as const) {
        expect(canMove(from, to), `${from} → ${to}`).toBe(false);
        const life = at(from);
        expect(() => life.to(to)).toThrow(`illegal lifecycle move ${from} → ${to}`);
        expect(life.state).toBe(from);
      }
    }
  });

  it('leaves stopped for nothing, and stopping only for stopped', () => {
    for (const to of ALL) {
      expect(canMove('stopped', to)).toBe(false);
      expect(canMove('stopping', to)).toBe(to === 'stopped');
    }
  });

  it('is retired only after retiring, and does not go back to retiring', () => {
    expect(canMove('consuming', 'retired')).toBe(false);
    expect(canMove('starting', 'retired')).toBe(false);
    expect(canMove('retired', 'retiring')).toBe(false);
    // A stop during the drain supersedes retiring: the child does not start retiring again.
    expect(canMove('stopping', 'retiring')).toBe(false);
  });

  it('refuses a move to the state it is in (a second start, a second retire)', () => {
    for (const state of ALL) expect(canMove(state, state)).toBe(false);
  });
});
