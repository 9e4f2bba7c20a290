import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  moves,
  publishedState,
  retriedRecord,
  stateOfEvent,
  submittedRecord,
} from '../../../../src/api/store/precedence.js';
import type { TaskEvent } from '../../../../src/api/store/types.js';

/** Issue 30: the `delayed` state, a task's not-before and deadline, and `expired`. */

const AT = '2026-01-01T00:00:01.000Z';
const LATER = '2026-01-01T01:00:00.000Z';
const ev = (e: Partial<TaskEvent> & Pick<TaskEvent, 'event'>): TaskEvent => ({
  taskId: 't',
  type: 'echo',
  at: AT,
  ...e,
});

describe('stateOfEvent', () => {
  it('is delayed for a received whose not-before is after its time, else queued', () => {
    expect(stateOfEvent(ev({ event: 'received', notBefore: LATER }))).toBe('delayed');
    expect(stateOfEvent(ev({ event: 'received', notBefore: AT }))).toBe('queued');
    expect(stateOfEvent(ev({ event: 'received' }))).toBe('queued');
    expect(stateOfEvent(ev({ event: 'expired' }))).toBe('expired');
  });
});

describe('moves with delayed', () => {
  it('ranks delayed like queued: either way between them, forward to anything later', () => {
    expect(moves('queued', 'delayed')).toBe(true);
    expect(moves('delayed', 'queued')).toBe(true);
    expect(moves('submitted', 'delayed')).toBe(true);
    expect(moves('delayed', 'running')).toBe(true);
    expect(moves('delayed', 'cancelled')).toBe(true);
    expect(moves('delayed', 'expired')).toBe(true);
    expect(moves('running', 'delayed')).toBe(false);
    expect(moves('delayed', 'submitted')).toBe(false);
    expect(moves('cancelled', 'delayed')).toBe(false);
  });
});

describe('applyEvent with not-before and deadline', () => {
  it('records a first-heard delayed task with its times; its start moves it on', () => {
    const received = applyEvent(
      undefined,
      ev({ event: 'received', notBefore: LATER, expiresAt: '2026-01-01T02:00:00Z' }),
    ).record;
    expect(received).toMatchObject({
      state: 'delayed',
      source: 'queue',
      notBefore: LATER,
      expiresAt: '2026-01-01T02:00:00.000Z',
    });
    const started = applyEvent(
      received,
      ev({ event: 'started', attempt: 1, at: '2026-01-01T01:00:00.050Z' }),
    );
    expect(started.record).toMatchObject({ state: 'running', notBefore: LATER });
    // The ladder's late duplicate of `received` does not take it back.
    expect(applyEvent(started.record, ev({ event: 'received', notBefore: LATER })).changed).toBe(
      false,
    );
  });

  it('keeps the submitted times of an API task over a received that says others', () => {
    const submitted = submittedRecord({
      id: 't',
      types: ['echo'],
      workitem: { fields: {} },
      at: AT,
      notBefore: LATER,
      expiresAt: '2026-01-01T03:00:00+01:00',
    });
    expect(submitted).toMatchObject({ notBefore: LATER, expiresAt: '2026-01-01T02:00:00.000Z' });
    const received = applyEvent(
      { ...submitted, state: 'delayed' },
      ev({ event: 'received', notBefore: '2026-01-01T01:00:00.100Z' }),
    ).record;
    expect(received).toMatchObject({ state: 'delayed', notBefore: LATER });
  });

  it('moves a delayed task the dispatcher found due to queued', () => {
    const submitted = submittedRecord({ id: 't', types: ['echo'], workitem: 1, at: AT });
    const record = applyEvent({ ...submitted, state: 'delayed' }, ev({ event: 'received' }));
    expect(record.record.state).toBe('queued');
  });

  it('ends a task on `expired` with its error result, attempt and code; nothing moves it after', () => {
    const received = applyEvent(undefined, ev({ event: 'received', notBefore: LATER })).record;
    const result = {
      fields: {},
      error: 'task expired at … before it started (TQ_ERR_TASK_EXPIRED): not run',
    };
    const expired = applyEvent(
      received,
      ev({
        event: 'expired',
        attempt: 1,
        at: LATER,
        errorCode: 'TQ_ERR_TASK_EXPIRED',
        error: result.error,
        result,
      }),
    ).record;
    expect(expired).toMatchObject({ state: 'expired', finishedAt: LATER, result });
    expect(expired.attempts).toEqual([
      expect.objectContaining({ attempt: 1, errorCode: 'TQ_ERR_TASK_EXPIRED', endedAt: LATER }),
    ]);
    // A late `started` may fill in its attempt, never its state.
    expect(applyEvent(expired, ev({ event: 'started', attempt: 1 })).record.state).toBe('expired');
    expect(applyEvent(expired, ev({ event: 'received', notBefore: LATER })).changed).toBe(false);
  });

  it('keeps the times on a retried record (what it was submitted with)', () => {
    const submitted = submittedRecord({
      id: 't',
      types: ['echo'],
      workitem: 1,
      at: AT,
      expiresAt: LATER,
    });
    const retried = retriedRecord({ ...submitted, state: 'expired' }, LATER);
    expect(retried).toMatchObject({ state: 'submitted', run: 2, expiresAt: LATER });
  });
});

describe('publishedState', () => {
  it('is delayed only for a not-before still to come', () => {
    expect(publishedState(LATER, AT)).toBe('delayed');
    expect(publishedState(AT, LATER)).toBe('queued');
    expect(publishedState(undefined, AT)).toBe('queued');
  });
});
