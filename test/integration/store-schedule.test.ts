import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_RETENTION } from '../../src/api/store/retention.js';
import type { TaskEvent } from '../../src/api/store/types.js';
import {
  memoryBackend,
  postgresBackend,
  type StoreBackend,
  sqliteBackend,
} from '../support/stores.js';

/**
 * Issue 30 in the three stores (memory reference, real SQLite, real PostgreSQL): a task's
 * not-before and deadline kept (migration v5) from a submit or a `received`, the `delayed`
 * state (published, listed by state, never swept), and `expired` ending a task.
 */

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const ev = (e: Partial<TaskEvent> & Pick<TaskEvent, 'event' | 'taskId'>): TaskEvent => ({
  type: 'echo',
  at: at(1),
  ...e,
});

const backends: StoreBackend[] = [memoryBackend(), sqliteBackend(), postgresBackend()];
afterAll(async () => {
  for (const b of backends) await b.cleanup();
});

describe.each(backends)('delayed tasks in the store: $name', (backend) => {
  const open = async () => (await backend.open()).store;

  it('keeps a submitted task its times; published with a later not-before it is delayed', async () => {
    const store = await open();
    await store.submit({
      id: 'd',
      types: ['echo'],
      workitem: { fields: {} },
      at: at(0),
      notBefore: at(3600),
      expiresAt: '2026-01-01T02:00:00+01:00',
    });
    expect(await store.get('d')).toMatchObject({
      state: 'submitted',
      notBefore: at(3600),
      expiresAt: at(3600),
    });
    await store.markQueued('d', at(1), 'delayed');
    expect(await store.get('d')).toMatchObject({ state: 'delayed', updatedAt: at(1) });
    // The dispatcher's `received` (into the ladder) leaves it delayed; its start moves it on.
    expect(await store.apply(ev({ event: 'received', taskId: 'd', notBefore: at(3600) }))).toBe(
      false,
    );
    await store.apply(ev({ event: 'started', taskId: 'd', attempt: 1, at: at(3600) }));
    expect(await store.get('d')).toMatchObject({ state: 'running', notBefore: at(3600) });
  });

  it('learns the times of a task first seen by the dispatcher from its received', async () => {
    const store = await open();
    await store.apply(
      ev({ event: 'received', taskId: 'q', notBefore: at(600), expiresAt: at(1200) }),
    );
    expect(await store.get('q')).toMatchObject({
      state: 'delayed',
      source: 'queue',
      notBefore: at(600),
      expiresAt: at(1200),
    });
    // Without times the record has none (the columns stay null).
    await store.apply(ev({ event: 'received', taskId: 'plain' }));
    const plain = await store.get('plain');
    expect(plain?.state).toBe('queued');
    expect(plain).not.toHaveProperty('notBefore');
    expect(plain).not.toHaveProperty('expiresAt');
  });

  it('lists delayed tasks by state, alone and with queued, by type too', async () => {
    const store = await open();
    await store.apply(ev({ event: 'received', taskId: 'a', at: at(1), notBefore: at(100) }));
    await store.apply(ev({ event: 'received', taskId: 'b', at: at(2) }));
    await store.apply(
      ev({ event: 'received', taskId: 'c', type: 'other', at: at(3), notBefore: at(100) }),
    );
    const ids = async (query: Parameters<typeof store.list>[0]) =>
      (await store.list(query)).tasks.map((t) => t.id);
    expect(await ids({ state: ['delayed'], limit: 10 })).toEqual(['c', 'a']);
    expect(await ids({ state: ['delayed', 'queued'], limit: 10 })).toEqual(['c', 'b', 'a']);
    expect(await ids({ state: ['delayed'], type: 'echo', limit: 10 })).toEqual(['a']);
  });

  it('never sweeps a delayed task, however old', async () => {
    const store = await open();
    await store.apply(ev({ event: 'received', taskId: 'old', at: at(0), notBefore: at(60) }));
    expect(await store.sweep(DEFAULT_RETENTION, '2030-01-01T00:00:00.000Z')).toBe(0);
    expect((await store.get('old'))?.state).toBe('delayed');
  });

  it('ends a delayed task on expired with its result; a delayed one cancelled stays so', async () => {
    const store = await open();
    await store.apply(ev({ event: 'received', taskId: 'e', notBefore: at(60), expiresAt: at(61) }));
    await store.apply(
      ev({
        event: 'expired',
        taskId: 'e',
        at: at(70),
        attempt: 1,
        errorCode: 'TQ_ERR_TASK_EXPIRED',
        error: 'task expired',
        result: { fields: {}, error: 'task expired' },
      }),
    );
    expect(await store.get('e')).toMatchObject({
      state: 'expired',
      finishedAt: at(70),
      result: { fields: {}, error: 'task expired' },
      attempts: [expect.objectContaining({ attempt: 1, errorCode: 'TQ_ERR_TASK_EXPIRED' })],
    });
    await store.apply(ev({ event: 'received', taskId: 'x', notBefore: at(3600) }));
    await store.apply(ev({ event: 'cancelled', taskId: 'x', at: at(2) }));
    expect(await store.apply(ev({ event: 'started', taskId: 'x', attempt: 1, at: at(3600) }))).toBe(
      true, // the late start fills in its attempt …
    );
    expect((await store.get('x'))?.state).toBe('cancelled'); // … never the state
  });

  it('keeps the times over a retry (what the task was submitted with)', async () => {
    const store = await open();
    await store.submit({ id: 'r', types: ['echo'], workitem: 1, at: at(0), expiresAt: at(10) });
    await store.markQueued('r', at(1));
    await store.apply(ev({ event: 'expired', taskId: 'r', at: at(11), attempt: 1 }));
    const retried = await store.retry('r', at(20));
    expect(retried?.record).toMatchObject({ state: 'submitted', run: 2, expiresAt: at(10) });
    expect(await store.get('r')).toMatchObject({ run: 2, expiresAt: at(10) });
  });
});
