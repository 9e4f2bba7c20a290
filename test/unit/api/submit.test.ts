import { describe, expect, it } from 'vitest';
import type { PublishTask } from '../../../src/api/publish.js';
import { StateChanges } from '../../../src/api/state-changes.js';
import { messageFor, submitTask, waitForFinal } from '../../../src/api/submit.js';
import { hasCode, TqError } from '../../../src/common/errors.js';
import { MemoryTaskStore } from '../../support/memory-store.js';

/** A publish that records what it was given, failing while `failing` is true. */
function fakePublish() {
  const sent: Array<{ id: string; type: string; body: unknown }> = [];
  const state = { failing: false };
  const publish: PublishTask = async ({ id, type, body }) => {
    if (state.failing) throw new TqError('TQ_ERR_API_PUBLISH', 'broker down');
    sent.push({ id, type, body: JSON.parse(body.toString()) });
  };
  return { publish, sent, state };
}

describe('submitTask', () => {
  it('stores, publishes one message per type, then marks the task queued', async () => {
    const store = new MemoryTaskStore();
    const { publish, sent } = fakePublish();
    const { record, created } = await submitTask(
      { store, publish },
      { types: ['a', 'b'], fields: { x: 1 } },
    );
    expect(created).toBe(true);
    expect(record.state).toBe('queued');
    expect(store.tasks.get(record.id)?.state).toBe('queued');
    expect(sent).toEqual([
      { id: record.id, type: 'a', body: { fields: { x: 1, params: { worker_type: 'a' } } } },
      { id: record.id, type: 'b', body: { fields: { x: 1, params: { worker_type: 'b' } } } },
    ]);
  });

  it('refuses a bad request before storing anything', async () => {
    const store = new MemoryTaskStore();
    const { publish, sent } = fakePublish();
    for (const request of [
      {},
      { type: 'a', types: ['b'] },
      { type: 'a', fields: {}, workitem: { fields: {} } },
      { type: 'bad type' },
      { types: ['ok', 'x.retry'] },
    ]) {
      const err = await submitTask({ store, publish }, request).catch((e: unknown) => e);
      expect(hasCode(err, 'TQ_ERR_API_INVALID_REQUEST'), JSON.stringify(request)).toBe(true);
    }
    expect(store.tasks.size).toBe(0);
    expect(sent).toEqual([]);
  });

  it('an unconfirmed publish leaves the task submitted; the same key publishes it again', async () => {
    const store = new MemoryTaskStore();
    const { publish, sent, state } = fakePublish();
    state.failing = true;
    const request = { type: 'a', fields: { n: 1 }, idempotencyKey: 'k1' };
    const err = await submitTask({ store, publish }, request).catch((e: unknown) => e);
    expect(hasCode(err, 'TQ_ERR_API_PUBLISH')).toBe(true);
    const [stored] = [...store.tasks.values()];
    expect(stored?.state).toBe('submitted');
    state.failing = false;
    const again = await submitTask({ store, publish }, { ...request, fields: { n: 2 } });
    expect(again.created).toBe(false);
    expect(again.record).toMatchObject({ id: stored!.id, state: 'queued' });
    // The first submit's workitem, not the second's: one task, one content.
    expect(sent).toEqual([
      { id: stored!.id, type: 'a', body: { fields: { n: 1, params: { worker_type: 'a' } } } },
    ]);
  });

  it('a key whose task was published is answered from the store, nothing published', async () => {
    const store = new MemoryTaskStore();
    const { publish, sent } = fakePublish();
    const first = await submitTask({ store, publish }, { type: 'a', idempotencyKey: 'k2' });
    const second = await submitTask({ store, publish }, { type: 'a', idempotencyKey: 'k2' });
    expect(second).toMatchObject({ created: false, record: { id: first.record.id } });
    expect(sent).toHaveLength(1);
  });
});

describe('messageFor', () => {
  it('keeps the workitem and its params, setting worker_type', () => {
    const body = messageFor(
      { fields: { params: { a: 1, worker_type: 'old' }, b: 2 }, fei: 'x' },
      't',
    );
    expect(JSON.parse(body.toString())).toEqual({
      fields: { params: { a: 1, worker_type: 't' }, b: 2 },
      fei: 'x',
    });
  });
});

describe('waitForFinal', () => {
  it('returns as soon as the task is final, or as it is at the deadline', async () => {
    const store = new MemoryTaskStore();
    const { publish } = fakePublish();
    const { record } = await submitTask({ store, publish }, { type: 'a' });
    const never = new AbortController().signal;
    expect((await waitForFinal(store, record, 0.05, never, { pollMs: 10 })).state).toBe('queued');
    const waiting = waitForFinal(store, record, 5, never, { pollMs: 10 });
    await store.apply({
      event: 'failed',
      taskId: record.id,
      type: 'a',
      at: new Date().toISOString(),
      attempt: 1,
    });
    const started = Date.now();
    expect((await waiting).state).toBe('failed');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('wakes on a change the tracker reports, without waiting for the poll', async () => {
    const store = new MemoryTaskStore();
    const { publish } = fakePublish();
    const changes = new StateChanges();
    const { record } = await submitTask({ store, publish }, { type: 'a' });
    // A poll and a deadline far past the test's own timeout: only the change can end the wait.
    const waiting = waitForFinal(store, record, 600, new AbortController().signal, {
      changes,
      pollMs: 600_000,
    });
    expect(changes.wants(record.id)).toBe(true);
    expect(changes.wants('other')).toBe(false);
    // Its first look at the store (queued) is over before the task becomes final.
    await new Promise((resolve) => setImmediate(resolve));
    const at = new Date().toISOString();
    await store.apply({ event: 'succeeded', taskId: record.id, type: 'a', at, attempt: 1 });
    // Another task's change does not end it; this task's does.
    changes.report({ taskId: 'other', type: 'a', types: ['a'], state: 'succeeded', at });
    changes.report({ taskId: record.id, type: 'a', types: ['a'], state: 'succeeded', at });
    expect((await waiting).state).toBe('succeeded');
    expect(changes.wants(record.id)).toBe(false);
  });

  it('stops waiting when the client went away', async () => {
    const store = new MemoryTaskStore();
    const { publish } = fakePublish();
    const { record } = await submitTask({ store, publish }, { type: 'a' });
    const ac = new AbortController();
    const waiting = waitForFinal(store, record, 30, ac.signal, { pollMs: 10 });
    ac.abort();
    expect((await waiting).state).toBe('queued');
  });
});
