import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  capped,
  isoTime,
  moves,
  submittedRecord,
} from '../../../../src/api/store/precedence.js';
import type { TaskEvent } from '../../../../src/api/store/types.js';

const ev = (e: Partial<TaskEvent> & Pick<TaskEvent, 'event'>): TaskEvent => ({
  taskId: 't',
  type: 'echo',
  at: '2026-01-01T00:00:01.000Z',
  ...e,
});

describe('moves', () => {
  it('lets finals win over intermediates and never replaces a final', () => {
    expect(moves('running', 'succeeded')).toBe(true);
    expect(moves('submitted', 'failed')).toBe(true);
    expect(moves('succeeded', 'failed')).toBe(false);
    expect(moves('succeeded', 'running')).toBe(false);
    expect(moves('failed', 'failed')).toBe(false);
  });

  it('moves intermediates forward only, and from retrying to the next running', () => {
    expect(moves('queued', 'running')).toBe(true);
    expect(moves('running', 'queued')).toBe(false);
    expect(moves('running', 'retrying')).toBe(true);
    expect(moves('retrying', 'running')).toBe(true);
    expect(moves('running', 'running')).toBe(false);
  });
});

describe('applyEvent', () => {
  it('creates a first-heard task (a change) and no-ops a repeat', () => {
    const first = applyEvent(undefined, ev({ event: 'received' }));
    expect(first).toMatchObject({ changed: true, record: { state: 'queued', source: 'queue' } });
    expect(applyEvent(first.record, ev({ event: 'received' })).changed).toBe(false);
  });

  it('leaves the record it was given as it was', () => {
    const { record } = applyEvent(undefined, ev({ event: 'received' }));
    applyEvent(record, ev({ event: 'succeeded', result: 1 }));
    expect(record.state).toBe('queued');
  });

  it('starts a task again on an event of a later run it has not recorded (a requeued dead letter)', () => {
    let record = applyEvent(undefined, ev({ event: 'received' })).record;
    record = applyEvent(record, ev({ event: 'poisoned', error: 'crashed', at: 'p' })).record;
    expect(record).toMatchObject({ state: 'poisoned', finishedAt: 'p' });
    // The parked run's late duplicate changes nothing; the next run's events move it again.
    expect(applyEvent(record, ev({ event: 'received' })).changed).toBe(false);
    const again = applyEvent(record, ev({ event: 'received', run: 2 })).record;
    expect(again).toMatchObject({ state: 'queued', run: 2 });
    expect(again.finishedAt).toBeUndefined();
    const done = applyEvent(again, ev({ event: 'succeeded', run: 2, result: 'ok', at: 's' }));
    expect(done.record).toMatchObject({
      state: 'succeeded',
      run: 2,
      result: 'ok',
      finishedAt: 's',
    });
    // The first run's final, late, does not end the second.
    expect(applyEvent(again, ev({ event: 'poisoned', at: 'late' })).changed).toBe(false);
  });

  it('starts again only the type of a fan-out whose event is of a later run', () => {
    let record = submittedRecord({ id: 't', types: ['a', 'b'], workitem: {}, at: 'x' });
    record = applyEvent(record, ev({ event: 'succeeded', type: 'a' })).record;
    record = applyEvent(record, ev({ event: 'poisoned', type: 'b', at: 'p' })).record;
    expect(record.state).toBe('incomplete');
    const again = applyEvent(record, ev({ event: 'received', type: 'b', run: 2 })).record;
    expect(again.state).toBe('queued');
    expect(again.responses.map((r) => r.state)).toEqual(['succeeded', 'queued']);
    const done = applyEvent(again, ev({ event: 'succeeded', type: 'b', run: 2, at: 's' })).record;
    expect(done).toMatchObject({ state: 'succeeded', finishedAt: 's' });
  });

  it('settles a fan-out when every response is final', () => {
    const record = submittedRecord({ id: 't', types: ['a', 'b'], workitem: {}, at: 'x' });
    const a = applyEvent(record, ev({ event: 'succeeded', type: 'a' })).record;
    expect(a.state).toBe('submitted');
    const b = applyEvent(a, ev({ event: 'succeeded', type: 'b', at: 'y' })).record;
    expect(b).toMatchObject({ state: 'succeeded', finishedAt: 'y' });
  });
});

describe('capped', () => {
  it('keeps a value that fits and cuts one that does not, by bytes of its JSON', () => {
    expect(capped({ a: 1 }, 100)).toEqual({ value: { a: 1 }, truncated: false });
    expect(capped({ a: 1 }, undefined)).toEqual({ value: { a: 1 }, truncated: false });
    expect(capped('abcdef', 4)).toEqual({ value: '"abc', truncated: true });
  });

  it('never ends a cut inside a UTF-8 sequence', () => {
    const cut = capped('ééé', 4);
    expect(cut).toEqual({ value: '"é', truncated: true });
    expect(Buffer.byteLength(cut.value as string)).toBeLessThanOrEqual(4);
  });
});

describe('isoTime', () => {
  it('writes every parseable time as toISOString does and keeps what does not parse', () => {
    expect(isoTime('2026-01-01T01:00:00+01:00')).toBe('2026-01-01T00:00:00.000Z');
    expect(isoTime('2026-01-01T00:00:00Z')).toBe('2026-01-01T00:00:00.000Z');
    expect(isoTime('not a time')).toBe('not a time');
  });
});
