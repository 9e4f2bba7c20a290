import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SCHEMA_MIGRATIONS_DDL } from '../../src/api/store/migrations.js';
import { POSTGRES_MIGRATIONS } from '../../src/api/store/sql/postgres.js';
import { SQLITE_MIGRATIONS } from '../../src/api/store/sql/sqlite.js';
import type { TaskEvent, TaskStore } from '../../src/api/store/types.js';
import {
  memoryBackend,
  postgresBackend,
  type StoreBackend,
  sqliteBackend,
} from '../support/stores.js';

/**
 * One contract, three stores: the in-memory reference (test/support), SQLite (a real file) and
 * PostgreSQL (a real server, a schema of this file's own). Whatever the tracker and the routes
 * rely on is asserted here once, so the three cannot drift apart.
 */

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
/** The ISO time `s` seconds after T0 (stores compare times as `toISOString` writes them). */
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const ev = (e: Partial<TaskEvent> & Pick<TaskEvent, 'event' | 'taskId'>): TaskEvent => ({
  type: 'echo',
  at: at(1),
  ...e,
});

/** The schema version a migrated store is at. */
const LATEST = { sqlite: SQLITE_MIGRATIONS.length, postgres: POSTGRES_MIGRATIONS.length };

const backends: StoreBackend[] = [memoryBackend(), sqliteBackend(), postgresBackend()];
afterAll(async () => {
  for (const b of backends) await b.cleanup();
});

describe.each(backends)('TaskStore contract: $name', (backend) => {
  const open = async (caps?: { resultBytes?: number; workitemBytes?: number }) =>
    (await backend.open({ caps })).store;

  it('records a submission once per idempotency key; an unknown id is undefined', async () => {
    const store = await open();
    const first = await store.submit({
      id: 't1',
      types: ['echo'],
      workitem: { fields: { n: 1 } },
      idempotencyKey: 'k1',
      at: at(0),
    });
    expect(first.created).toBe(true);
    expect(first.record).toMatchObject({ id: 't1', state: 'submitted', source: 'api' });
    const again = await store.submit({
      id: 't2',
      types: ['echo'],
      workitem: { fields: { n: 2 } },
      idempotencyKey: 'k1',
      at: at(5),
    });
    expect(again.created).toBe(false);
    expect(again.record.id).toBe('t1');
    expect(again.record.workitem).toEqual({ fields: { n: 1 } });
    expect(await store.get('t2')).toBeUndefined();
    await store.markQueued('t1', at(2));
    expect(await store.get('t1')).toMatchObject({ state: 'queued', updatedAt: at(2) });
    expect(await store.get('nope')).toBeUndefined();
  });

  it('answers a resubmission by its key first, then by its id, and changes nothing', async () => {
    const store = await open();
    await store.submit({ id: 'x', types: ['echo'], workitem: 1, at: at(0) });
    await store.submit({ id: 'y', types: ['echo'], workitem: 2, idempotencyKey: 'K', at: at(1) });
    const byKey = await store.submit({
      id: 'x',
      types: ['echo'],
      workitem: 3,
      idempotencyKey: 'K',
      at: at(2),
    });
    expect(byKey).toMatchObject({ created: false, record: { id: 'y', workitem: 2 } });
    const byId = await store.submit({ id: 'x', types: ['other'], workitem: 4, at: at(3) });
    expect(byId).toMatchObject({ created: false, record: { id: 'x', workitem: 1, type: 'echo' } });
  });

  it('applies by precedence: a final is never overwritten, a repeat is a no-op', async () => {
    const store = await open();
    expect(await store.apply(ev({ event: 'received', taskId: 'p', workitem: { a: 1 } }))).toBe(
      true,
    );
    expect(await store.get('p')).toMatchObject({ state: 'queued', source: 'queue' });
    expect(
      await store.apply(
        ev({
          event: 'started',
          taskId: 'p',
          attempt: 1,
          host: 'h1',
          pid: 42,
          user: 'tq',
          at: at(2),
        }),
      ),
    ).toBe(true);
    expect((await store.get('p'))?.state).toBe('running');
    const done = ev({ event: 'succeeded', taskId: 'p', attempt: 1, result: { ok: 1 }, at: at(3) });
    expect(await store.apply(done)).toBe(true);
    expect(await store.apply(done)).toBe(false);
    expect(await store.apply(ev({ event: 'failed', taskId: 'p', attempt: 1, at: at(4) }))).toBe(
      false,
    );
    expect(await store.apply(ev({ event: 'started', taskId: 'p', attempt: 1, at: at(5) }))).toBe(
      false,
    );
    const record = await store.get('p');
    expect(record).toMatchObject({
      state: 'succeeded',
      result: { ok: 1 },
      finishedAt: at(3),
      updatedAt: at(3),
      workitem: { a: 1 },
    });
    expect(record?.attempts).toEqual([
      { attempt: 1, host: 'h1', pid: 42, user: 'tq', startedAt: at(2), endedAt: at(3) },
    ]);
  });

  it('keeps every time as toISOString writes it, whatever offset the event used', async () => {
    const store = await open();
    await store.apply(ev({ event: 'received', taskId: 'tz', at: '2026-01-01T01:00:00+01:00' }));
    expect(await store.get('tz')).toMatchObject({ createdAt: at(0), updatedAt: at(0) });
    const ids = (await store.list({ limit: 5, since: '2025-12-31T19:00:00-05:00' })).tasks;
    expect(ids.map((t) => t.id)).toEqual(['tz']);
  });

  it('keeps the final when the intermediate events arrive after it', async () => {
    const store = await open();
    await store.apply(ev({ event: 'succeeded', taskId: 'o', attempt: 1, result: 7, at: at(9) }));
    await store.apply(ev({ event: 'received', taskId: 'o', workitem: { w: true }, at: at(1) }));
    await store.apply(
      ev({ event: 'started', taskId: 'o', attempt: 1, host: 'h', pid: 1, user: 'u', at: at(2) }),
    );
    const record = await store.get('o');
    expect(record).toMatchObject({
      state: 'succeeded',
      result: 7,
      finishedAt: at(9),
      workitem: { w: true },
      source: 'queue',
    });
    expect(record?.attempts[0]).toMatchObject({ attempt: 1, host: 'h', startedAt: at(2) });
  });

  it('records every attempt: its host, error, code, crash log and the next attempt time', async () => {
    const store = await open();
    await store.apply(
      ev({ event: 'started', taskId: 'a', attempt: 1, host: 'h1', pid: 10, at: at(1) }),
    );
    await store.apply(
      ev({
        event: 'retrying',
        taskId: 'a',
        attempt: 1,
        error: 'boom',
        errorCode: 'E_BOOM',
        nextAttemptAt: at(60),
        at: at(2),
      }),
    );
    expect(await store.get('a')).toMatchObject({ state: 'retrying', nextAttemptAt: at(60) });
    await store.apply(
      ev({ event: 'started', taskId: 'a', attempt: 2, host: 'h2', pid: 20, at: at(61) }),
    );
    const running = await store.get('a');
    expect(running?.state).toBe('running');
    expect(running?.nextAttemptAt).toBeUndefined();
    await store.apply(
      ev({
        event: 'poisoned',
        taskId: 'a',
        attempt: 2,
        crashLog: ['line 1', 'line 2'],
        at: at(62),
      }),
    );
    const record = await store.get('a');
    expect(record?.state).toBe('poisoned');
    expect(record?.attempts).toEqual([
      {
        attempt: 1,
        host: 'h1',
        pid: 10,
        startedAt: at(1),
        endedAt: at(2),
        error: 'boom',
        errorCode: 'E_BOOM',
      },
      {
        attempt: 2,
        host: 'h2',
        pid: 20,
        startedAt: at(61),
        endedAt: at(62),
        crashLog: ['line 1', 'line 2'],
      },
    ]);
  });

  it('fan-out: one task, one response per type; incomplete when one type failed', async () => {
    const store = await open();
    const { record } = await store.submit({ id: 'f', types: ['a', 'b'], workitem: {}, at: at(0) });
    expect(record.responses.map((r) => [r.type, r.state])).toEqual([
      ['a', 'submitted'],
      ['b', 'submitted'],
    ]);
    await store.apply(
      ev({ event: 'succeeded', taskId: 'f', type: 'a', attempt: 1, result: 'A', at: at(2) }),
    );
    expect((await store.get('f'))?.state).not.toBe('succeeded');
    await store.apply(
      ev({
        event: 'failed',
        taskId: 'f',
        type: 'b',
        attempt: 1,
        error: 'no',
        errorCode: 'E_NO',
        result: { error: 'no' },
        at: at(3),
      }),
    );
    const done = await store.get('f');
    expect(done).toMatchObject({ state: 'incomplete', finishedAt: at(3) });
    expect(done?.responses).toEqual([
      { type: 'a', state: 'succeeded', result: 'A', updatedAt: at(2) },
      {
        type: 'b',
        state: 'failed',
        result: { error: 'no' },
        error: 'no',
        errorCode: 'E_NO',
        updatedAt: at(3),
      },
    ]);
    // A late duplicate of a type's final changes nothing, nor does another type's intermediate.
    expect(
      await store.apply(ev({ event: 'succeeded', taskId: 'f', type: 'b', attempt: 1, at: at(4) })),
    ).toBe(false);
    expect((await store.list({ state: ['incomplete'], limit: 10 })).tasks.map((t) => t.id)).toEqual(
      ['f'],
    );
    expect((await store.list({ type: 'b', limit: 10 })).tasks.map((t) => t.id)).toEqual(['f']);
  });

  it('fan-out: failed when no type succeeded, succeeded when all did', async () => {
    const store = await open();
    await store.submit({ id: 'none', types: ['a', 'b'], workitem: {}, at: at(0) });
    await store.apply(ev({ event: 'poisoned', taskId: 'none', type: 'a', attempt: 1, at: at(1) }));
    expect((await store.get('none'))?.state).toBe('submitted');
    await store.apply(
      ev({ event: 'failed', taskId: 'none', type: 'b', attempt: 1, error: 'x', at: at(2) }),
    );
    expect(await store.get('none')).toMatchObject({
      state: 'failed',
      responses: [
        { type: 'a', state: 'poisoned' },
        { type: 'b', state: 'failed', error: 'x' },
      ],
    });
    await store.submit({ id: 'all', types: ['a', 'b'], workitem: {}, at: at(0) });
    for (const type of ['b', 'a']) {
      await store.apply(ev({ event: 'succeeded', taskId: 'all', type, attempt: 1, at: at(3) }));
    }
    expect((await store.get('all'))?.state).toBe('succeeded');
  });

  it('retries a poisoned task as its next run; a late event of the earlier run changes nothing', async () => {
    const store = await open();
    await store.submit({ id: 'r', types: ['echo'], workitem: { fields: { n: 1 } }, at: at(0) });
    await store.markQueued('r', at(1));
    await store.apply(ev({ event: 'started', taskId: 'r', attempt: 1, host: 'h1', at: at(2) }));
    const poisoned = ev({
      event: 'poisoned',
      taskId: 'r',
      attempt: 1,
      crashLog: ['exit 7'],
      result: { error: 'poison' },
      at: at(3),
    });
    await store.apply(poisoned);
    const retried = await store.retry('r', at(10));
    expect(retried?.moved).toBe(true);
    expect(retried?.record).toMatchObject({ state: 'submitted', run: 2, updatedAt: at(10) });
    for (const gone of ['result', 'finishedAt'] as const) {
      expect(retried?.record[gone]).toBeUndefined();
    }
    expect(await store.get('r')).toEqual(retried?.record);
    // The earlier run's final, delivered again, and its late start: neither touches run 2.
    expect(await store.apply(poisoned)).toBe(false);
    expect(await store.apply(ev({ event: 'started', taskId: 'r', attempt: 1, at: at(4) }))).toBe(
      false,
    );
    await store.markQueued('r', at(11));
    await store.apply(
      ev({ event: 'started', taskId: 'r', run: 2, attempt: 1, host: 'h2', at: at(12) }),
    );
    expect((await store.get('r'))?.state).toBe('running');
    await store.apply(
      ev({ event: 'succeeded', taskId: 'r', run: 2, attempt: 1, result: 'ok', at: at(13) }),
    );
    const done = await store.get('r');
    expect(done).toMatchObject({ state: 'succeeded', run: 2, result: 'ok', finishedAt: at(13) });
    expect(done?.attempts).toEqual([
      { attempt: 1, host: 'h1', startedAt: at(2), endedAt: at(3), crashLog: ['exit 7'] },
      { attempt: 1, run: 2, host: 'h2', startedAt: at(12), endedAt: at(13) },
    ]);
    // Succeeded is not retried; a third run after another failure is.
    expect(await store.retry('r', at(20))).toMatchObject({ moved: false, record: { run: 2 } });
    expect(await store.retry('nope', at(20))).toBeUndefined();
  });

  it('retries an incomplete fan-out: the failed types start again, the succeeded keep their answer', async () => {
    const store = await open();
    await store.submit({ id: 'rf', types: ['a', 'b'], workitem: { fields: {} }, at: at(0) });
    await store.apply(
      ev({ event: 'succeeded', taskId: 'rf', type: 'a', attempt: 1, result: 'A', at: at(1) }),
    );
    await store.apply(
      ev({ event: 'failed', taskId: 'rf', type: 'b', attempt: 1, error: 'no', at: at(2) }),
    );
    const { record } = (await store.retry('rf', at(5)))!;
    expect(record).toMatchObject({ state: 'submitted', run: 2 });
    expect(record.responses).toEqual([
      { type: 'a', state: 'succeeded', result: 'A', updatedAt: at(1) },
      { type: 'b', state: 'submitted', updatedAt: at(5) },
    ]);
    await store.apply(
      ev({
        event: 'succeeded',
        taskId: 'rf',
        type: 'b',
        run: 2,
        attempt: 1,
        result: 'B',
        at: at(6),
      }),
    );
    expect(await store.get('rf')).toMatchObject({
      state: 'succeeded',
      responses: [
        { type: 'a', state: 'succeeded', result: 'A' },
        { type: 'b', state: 'succeeded', result: 'B' },
      ],
    });
  });

  it('does not retry a task that is not final, succeeded, invalid or cancelled', async () => {
    const store = await open();
    const cases: [string, TaskEvent['event'] | undefined][] = [
      ['q', undefined],
      ['s', 'succeeded'],
      ['i', 'invalid'],
      ['c', 'cancelled'],
    ];
    for (const [id, event] of cases) {
      await store.apply(ev({ event: 'received', taskId: id, workitem: { fields: {} } }));
      if (event) await store.apply(ev({ event, taskId: id, at: at(2) }));
      const before = await store.get(id);
      expect(await store.retry(id, at(9))).toEqual({ record: before, moved: false });
      expect(await store.get(id)).toEqual(before);
    }
    for (const event of ['failed', 'expired'] as const) {
      await store.apply(ev({ event, taskId: event, at: at(2) }));
      expect((await store.retry(event, at(9)))?.moved).toBe(true);
    }
  });

  it('caps the workitem and the result and says so in the record', async () => {
    const store = await open({ workitemBytes: 40, resultBytes: 30 });
    const big = { text: 'x'.repeat(200) };
    const { record } = await store.submit({ id: 'c', types: ['echo'], workitem: big, at: at(0) });
    expect(record.workitemTruncated).toBe(true);
    await store.apply(ev({ event: 'succeeded', taskId: 'c', result: big, at: at(1) }));
    const got = await store.get('c');
    expect(got).toMatchObject({ workitemTruncated: true, resultTruncated: true, resultCap: 30 });
    expect(Buffer.byteLength(got?.result as string)).toBeLessThanOrEqual(30);
    expect(JSON.stringify(big).startsWith(got?.result as string)).toBe(true);
    await store.apply(ev({ event: 'succeeded', taskId: 'small', result: { ok: 1 }, at: at(1) }));
    const small = await store.get('small');
    expect(small?.result).toEqual({ ok: 1 });
    expect(small?.resultTruncated).toBeUndefined();
  });

  it('lists by state, type, time and a workitem field', async () => {
    const store = await open();
    const seed: [string, string, number, unknown, TaskEvent['event']][] = [
      ['l1', 'x', 1, { fields: { repo: 'r1', n: 5, on: true } }, 'succeeded'],
      ['l2', 'y', 2, { fields: { repo: 'r2', n: '5', on: false } }, 'failed'],
      ['l3', 'x', 3, { fields: { repo: 'r1', n: 6 } }, 'started'],
      ['l4', 'y', 4, { fields: { repo: 'r1' } }, 'received'],
    ];
    for (const [id, type, s, workitem, event] of seed) {
      await store.apply({ event: 'received', taskId: id, type, at: at(s), workitem });
      if (event !== 'received')
        await store.apply({ event, taskId: id, type, at: at(s + 100), attempt: 1 });
    }
    const ids = async (q: Parameters<TaskStore['list']>[0]) =>
      (await store.list(q)).tasks.map((t) => t.id);
    expect(await ids({ limit: 10 })).toEqual(['l4', 'l3', 'l2', 'l1']);
    expect(await ids({ limit: 10, state: ['failed', 'succeeded'] })).toEqual(['l2', 'l1']);
    expect(await ids({ limit: 10, type: 'x' })).toEqual(['l3', 'l1']);
    expect(await ids({ limit: 10, since: at(2), until: at(4) })).toEqual(['l3', 'l2']);
    expect(await ids({ limit: 10, field: { path: 'fields.repo', value: 'r1' } })).toEqual([
      'l4',
      'l3',
      'l1',
    ]);
    expect(await ids({ limit: 10, field: { path: 'fields.n', value: 5 } })).toEqual(['l1']);
    expect(await ids({ limit: 10, field: { path: 'fields.n', value: '5' } })).toEqual(['l2']);
    expect(await ids({ limit: 10, field: { path: 'fields.on', value: false } })).toEqual(['l2']);
    expect(
      await ids({
        limit: 10,
        type: 'x',
        field: { path: 'fields.repo', value: 'r1' },
        state: ['running'],
      }),
    ).toEqual(['l3']);
    await expect(
      store.list({ limit: 1, field: { path: "a') OR 1=1 --", value: 1 } }),
    ).rejects.toMatchObject({
      code: 'TQ_ERR_STORE_QUERY',
    });
  });

  it('pages by cursor without skipping or repeating while tasks are inserted between pages', async () => {
    const store = await open();
    const expected: string[] = [];
    // Three tasks a second: ties on createdAt are ordered by id.
    for (let i = 0; i < 25; i++) {
      const id = `c${String(i).padStart(2, '0')}`;
      await store.apply({ event: 'received', taskId: id, type: 'echo', at: at(Math.floor(i / 3)) });
      expected.unshift(id);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ limit: 7, ...(cursor ? { cursor } : {}) });
      seen.push(...page.tasks.map((t) => t.id));
      cursor = page.next;
      pages++;
      // Newer tasks, and one at the very time of the page's last task, arrive meanwhile.
      await store.apply({
        event: 'received',
        taskId: `new${pages}`,
        type: 'echo',
        at: at(1000 + pages),
      });
      await store.apply({ event: 'received', taskId: `c99-${pages}`, type: 'echo', at: at(9) });
    } while (cursor);
    expect(pages).toBe(4);
    expect(seen).toEqual(expected);
    await expect(store.list({ limit: 5, cursor: 'not-a-cursor' })).rejects.toMatchObject({
      code: 'TQ_ERR_STORE_QUERY',
    });
  });

  it('sweeps finished tasks past their retention by state, in chunks', async () => {
    const store = await open();
    for (let i = 0; i < 23; i++) {
      await store.apply({
        event: 'started',
        taskId: `old-ok-${i}`,
        type: 'e',
        attempt: 1,
        at: at(0),
      });
      await store.apply({
        event: 'succeeded',
        taskId: `old-ok-${i}`,
        type: 'e',
        attempt: 1,
        at: at(10),
      });
    }
    for (let i = 0; i < 3; i++) {
      await store.apply({ event: 'failed', taskId: `old-failed-${i}`, type: 'e', at: at(10) });
      await store.apply({ event: 'succeeded', taskId: `new-ok-${i}`, type: 'e', at: at(5000) });
      await store.apply({
        event: 'started',
        taskId: `running-${i}`,
        type: 'e',
        attempt: 1,
        at: at(0),
      });
    }
    const policy = { keepSeconds: { succeeded: 3600, failed: 30 * 86400 }, chunk: 4 };
    expect(await store.sweep(policy, at(3610 + 10))).toBe(23);
    expect(await store.get('old-ok-0')).toBeUndefined();
    expect(await store.get('old-failed-0')).toMatchObject({ state: 'failed' });
    expect(await store.get('new-ok-0')).toMatchObject({ state: 'succeeded' });
    expect(await store.get('running-0')).toMatchObject({ state: 'running' });
    expect(await store.sweep(policy, at(3620))).toBe(0);
    expect(await store.sweep(policy, at(30 * 86400 + 20))).toBe(6);
  });

  it('counts finished tasks a bucket by final state, every bucket, on finishedAt', async () => {
    const store = await open();
    const final = (taskId: string, event: TaskEvent['event'], s: number) =>
      store.apply({ event, taskId, type: 'e', attempt: 1, at: at(s) });
    // T0 is a multiple of 60 s: buckets [0, 60), [60, 120), [120, 180) seconds after it.
    await final('ok-1', 'succeeded', 0);
    await final('ok-2', 'succeeded', 59.999);
    await final('ok-3', 'succeeded', 60);
    await final('failed-1', 'failed', 61);
    await final('poisoned-1', 'poisoned', 130);
    await final('expired-1', 'expired', 179);
    await final('before', 'succeeded', -1); // before since
    await final('after', 'failed', 180); // at until: outside
    await store.apply({ event: 'started', taskId: 'running', type: 'e', attempt: 1, at: at(70) });
    // A retried task is no longer finished: its first run's end is not counted.
    await store.submit({ id: 'again', types: ['e'], workitem: { n: 1 }, at: at(100) });
    await final('again', 'failed', 110);
    expect((await store.retry('again', at(111)))?.moved).toBe(true);
    const zero = {
      succeeded: 0,
      failed: 0,
      poisoned: 0,
      invalid: 0,
      expired: 0,
      cancelled: 0,
      incomplete: 0,
    };
    expect(await store.throughput(at(0), at(180), 60)).toEqual([
      { at: at(0), ...zero, succeeded: 2 },
      { at: at(60), ...zero, succeeded: 1, failed: 1 },
      { at: at(120), ...zero, poisoned: 1, expired: 1 },
    ]);
    expect(await store.throughput(at(0), at(300), 300)).toEqual([
      { at: at(0), ...zero, succeeded: 3, failed: 2, poisoned: 1, expired: 1 },
    ]);
    const empty = await store.throughput(at(3600), at(7200), 60);
    expect(empty).toHaveLength(60);
    expect(empty.every((b) => b.succeeded === 0 && b.failed === 0)).toBe(true);
  });
});

describe.each(backends.filter((b) => b.sql))('migrations: $name', (backend) => {
  it('migrates an empty database, re-runs as a no-op and refuses a newer schema', async () => {
    const { store, where } = await backend.open();
    await store.migrate();
    const versions = await backend.sql!(where, 'SELECT version FROM schema_migrations');
    expect(versions).toEqual(
      Array.from({ length: LATEST[backend.name as 'sqlite' | 'postgres'] }, (_, i) => ({
        version: i + 1,
      })),
    );
    await store.apply(ev({ event: 'received', taskId: 'm' }));
    const again = await backend.open({ shareWith: where });
    expect(await again.store.get('m')).toMatchObject({ state: 'queued' });
    await backend.sql!(where, "INSERT INTO schema_migrations VALUES (99, 'later')");
    const newer = await backend.open({ shareWith: where, migrate: false });
    await expect(newer.store.migrate()).rejects.toMatchObject({
      code: 'TQ_ERR_STORE_SCHEMA_NEWER',
    });
  });
});

describe.each(backends.filter((b) => b.sql))('migration to runs: $name', (backend) => {
  it('keeps the attempts of a store made before runs existed, as run 1', async () => {
    const { where } = await backend.open({ migrate: false });
    const known = backend.name === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRES_MIGRATIONS;
    await execAll(backend, where, `${SCHEMA_MIGRATIONS_DDL};\n${known[0]};\n${known[1]}`);
    await execAll(
      backend,
      where,
      `INSERT INTO schema_migrations VALUES (1, 'then'), (2, 'then');
      INSERT INTO tasks (id, type, types, state, source, created_at, updated_at, finished_at)
        VALUES ('old', 'echo', '["echo"]', 'poisoned', 'queue', '${at(0)}', '${at(2)}', '${at(2)}');
      INSERT INTO attempts (task_id, attempt, host, error) VALUES ('old', 1, 'h', 'x');`,
    );
    const { store } = await backend.open({ shareWith: where });
    expect(await store.get('old')).toMatchObject({
      state: 'poisoned',
      attempts: [{ attempt: 1, host: 'h', error: 'x' }],
    });
    expect((await store.get('old'))?.run).toBeUndefined();
    expect((await store.retry('old', at(5)))?.record.run).toBe(2);
  });
});

describe.each(backends.filter((b) => b.sql))('migration to listed fan-outs: $name', (backend) => {
  it("gives a fan-out's responses stored before it their task's creation time, and lists it", async () => {
    const { where } = await backend.open({ migrate: false });
    const known = backend.name === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRES_MIGRATIONS;
    await execAll(backend, where, `${SCHEMA_MIGRATIONS_DDL};\n${known.slice(0, 3).join(';\n')}`);
    await execAll(
      backend,
      where,
      `INSERT INTO schema_migrations VALUES (1, 'then'), (2, 'then'), (3, 'then');
      INSERT INTO tasks (id, type, types, state, source, created_at, updated_at)
        VALUES ('fan', 'echo', '["echo","other"]', 'running', 'api', '${at(7)}', '${at(8)}');
      INSERT INTO responses (task_id, type, state, updated_at)
        VALUES ('fan', 'echo', 'running', '${at(8)}'), ('fan', 'other', 'queued', '${at(8)}');`,
    );
    const { store } = await backend.open({ shareWith: where });
    const created = await backend.sql!(
      where,
      "SELECT type, task_created_at FROM responses WHERE task_id = 'fan' ORDER BY type",
    );
    expect(
      (created as Array<{ task_created_at: string | Date }>).map((r) =>
        new Date(r.task_created_at).toISOString(),
      ),
    ).toEqual([at(7), at(7)]);
    expect((await store.list({ type: 'other', limit: 5 })).tasks.map((t) => t.id)).toEqual(['fan']);
  });
});

/** Runs several statements on a store's database, as a migration runs them. */
async function execAll(backend: StoreBackend, where: string, sql: string): Promise<void> {
  if (backend.name === 'postgres') {
    await backend.sql!(where, sql);
    return;
  }
  const db = new Database(where);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

describe('PostgreSQL: two stores on one database', () => {
  const backend = backends.find((b) => b.name === 'postgres')!;

  it('reach the same final record as one store when they apply interleaved events concurrently', async () => {
    const one = await backend.open();
    const two = await backend.open({ shareWith: one.where });
    const reference = (await memoryBackend().open()).store;
    const events: TaskEvent[] = [];
    for (let t = 0; t < 30; t++) {
      const taskId = `cc${t}`;
      events.push(
        ev({ event: 'received', taskId, workitem: { t }, at: at(0) }),
        ev({ event: 'started', taskId, attempt: 1, host: 'h1', pid: 1, at: at(1) }),
        ev({ event: 'retrying', taskId, attempt: 1, error: 'e1', at: at(2) }),
        ev({ event: 'started', taskId, attempt: 2, host: 'h2', pid: 2, at: at(3) }),
        ev({
          event: t % 2 ? 'succeeded' : 'poisoned',
          taskId,
          attempt: 2,
          result: { t },
          at: at(4),
        }),
      );
    }
    for (const e of events) await reference.apply(e);
    // Every event twice (a redelivery), split between the two stores, all at once.
    await Promise.all(
      [...events, ...events].map((e, i) => (i % 2 ? one.store : two.store).apply(e)),
    );
    for (let t = 0; t < 30; t++) {
      const want = await reference.get(`cc${t}`);
      for (const store of [one.store, two.store]) {
        const got = await store.get(`cc${t}`);
        expect(got).toMatchObject({
          state: want?.state,
          result: want?.result,
          finishedAt: want?.finishedAt,
          workitem: want?.workitem,
          attempts: want?.attempts,
        });
      }
    }
  });
});

describe('PostgreSQL: connections cut under the store', () => {
  const backend = backends.find((b) => b.name === 'postgres')!;

  it('drops its idle connections when the server ends them and works on with new ones', async () => {
    const errors: Error[] = [];
    const { store, where } = await backend.open({ onIdleError: (err) => errors.push(err) });
    await store.apply(ev({ event: 'received', taskId: 'cut' }));
    // What a server restart does to a pool's idle connections.
    await backend.sql!(
      where,
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = 'taskqueue-api:${where}'`,
    );
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 10_000 });
    expect(await store.get('cut')).toMatchObject({ state: 'queued' });
  });
});

/** Several tasks' lives, interleaved, with a redelivery, late intermediates and a fan-out. */
function lives(prefix: string, tasks: number): TaskEvent[] {
  const out: TaskEvent[] = [];
  for (let t = 0; t < tasks; t++) {
    const taskId = `${prefix}${t}`;
    const done = ev({ event: t % 3 ? 'succeeded' : 'failed', taskId, attempt: 2, at: at(5) });
    if (t % 3) done.result = { t };
    else done.error = `boom ${t}`;
    out.push(
      ev({ event: 'received', taskId, workitem: { t }, at: at(0) }),
      ev({ event: 'started', taskId, attempt: 1, host: 'h1', pid: 1, at: at(1) }),
      ev({ event: 'retrying', taskId, attempt: 1, error: 'e1', nextAttemptAt: at(3), at: at(2) }),
      done,
      // Late: the second attempt's start after its final, then the final again.
      ev({ event: 'started', taskId, attempt: 2, host: 'h2', pid: 2, user: 'u', at: at(4) }),
      done,
    );
  }
  // Round robin over the tasks, so that a batch holds several events of several tasks.
  const perTask = out.length / tasks;
  return Array.from({ length: out.length }, (_, i) => {
    const task = i % tasks;
    return out[task * perTask + Math.floor(i / tasks)]!;
  });
}

describe.each(backends)('TaskStore contract, applyBatch: $name', (backend) => {
  it('answers and leaves what applying the events one at a time does, in any batch sizes', async () => {
    const { store } = await backend.open();
    const reference = (await memoryBackend().open()).store;
    // A task the API recorded, fanned out: its responses move in the batch too.
    for (const s of [store, reference]) {
      await s.submit({ id: 'bf', types: ['a', 'b'], workitem: { f: 1 }, at: at(0) });
    }
    const events = [
      ...lives('b', 5),
      ev({ event: 'succeeded', taskId: 'bf', type: 'a', attempt: 1, result: 'A', at: at(2) }),
      ev({ event: 'started', taskId: 'bf', type: 'b', attempt: 1, host: 'h', pid: 3, at: at(2) }),
      ev({ event: 'poisoned', taskId: 'bf', type: 'b', attempt: 1, error: 'x', at: at(3) }),
    ];
    const want: boolean[] = [];
    for (const e of events) want.push(await reference.apply(e));
    // Batches of 1, 7 and the rest: a task's events split between batches as the tracker's are.
    const got = [
      ...(await store.applyBatch(events.slice(0, 1))),
      ...(await store.applyBatch(events.slice(1, 8))),
      ...(await store.applyBatch(events.slice(8))),
    ];
    expect(got).toEqual(want);
    expect(await store.applyBatch([])).toEqual([]);
    for (const id of ['b0', 'b1', 'b2', 'b3', 'b4', 'bf']) {
      const { createdAt: _c, ...expected } = (await reference.get(id))!;
      expect(await store.get(id)).toMatchObject(expected);
    }
  });
});

describe('PostgreSQL: two stores applying batches of the same tasks', () => {
  const backend = backends.find((b) => b.name === 'postgres')!;

  it('neither deadlocks nor loses an event when their batches hold the tasks in other orders', async () => {
    const one = await backend.open();
    const two = await backend.open({ shareWith: one.where });
    const reference = (await memoryBackend().open()).store;
    const events = lives('pb', 20);
    for (const e of events) await reference.apply(e);
    // Every event twice, the second copy reversed, in batches of 10 on each store at once.
    const reversed = [...events].reverse();
    const batches = (all: TaskEvent[]) =>
      Array.from({ length: Math.ceil(all.length / 10) }, (_, i) => all.slice(i * 10, i * 10 + 10));
    await Promise.all([
      (async () => {
        for (const b of batches(events)) await one.store.applyBatch(b);
      })(),
      (async () => {
        for (const b of batches(reversed)) await two.store.applyBatch(b);
      })(),
    ]);
    for (let t = 0; t < 20; t++) {
      const want = await reference.get(`pb${t}`);
      const { createdAt: _c, updatedAt: _u, ...expected } = want!;
      expect(await one.store.get(`pb${t}`)).toMatchObject(expected);
      expect(await two.store.get(`pb${t}`)).toMatchObject(expected);
    }
  });
});
