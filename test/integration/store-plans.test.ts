import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/api/store/query.js';
import { listSql, SqliteTaskStore, THROUGHPUT_SQL } from '../../src/api/store/sqlite-store.js';
import { THROUGHPUT_STATES } from '../../src/api/store/throughput.js';
import type { TaskEvent, TaskQuery, TaskStore } from '../../src/api/store/types.js';
import { MemoryTaskStore } from '../support/memory-store.js';

/**
 * A million rows (issue 29): every list query shape of the SQLite store reads an index range in
 * page order, so that a page costs about `limit` rows however many the store holds. Asserted on
 * SQLite's own EXPLAIN QUERY PLAN of the statements the store runs (listSql): an index for every
 * table read, and no `USE TEMP B-TREE FOR ORDER BY` (a sort of every match). The figures at 10⁶
 * rows are in bench/FINDINGS.md. The same shapes are then paged through on a seeded store and
 * must give what the in-memory reference gives.
 */
const CURSOR = encodeCursor({ createdAt: '2026-01-01T00:10:00.000Z', id: 'x' });
const SINCE = '2026-01-01T00:00:00.000Z';
const UNTIL = '2026-01-01T00:20:00.000Z';
const FIELD = { path: 'fields.repo', value: 'r3' };

type Shape = Omit<TaskQuery, 'limit'>;
/** Each shape, and the indexes its plan must read. */
const SHAPES: Array<[string, Shape, string[]]> = [
  ['no filter', {}, ['tasks_created']],
  ['a state', { state: ['failed'] }, ['tasks_state_created']],
  ['two states', { state: ['failed', 'poisoned'] }, ['tasks_state_created']],
  ['a type', { type: 'echo' }, ['tasks_type_created', 'responses_type_created']],
  [
    'a state and a type',
    { state: ['failed'], type: 'echo' },
    ['tasks_type_state_created', 'responses_type_created'],
  ],
  [
    'two states and a type',
    { state: ['failed', 'succeeded'], type: 'echo' },
    ['tasks_type_state_created', 'responses_type_created'],
  ],
  ['since', { since: SINCE }, ['tasks_created']],
  ['since and until', { since: SINCE, until: UNTIL }, ['tasks_created']],
  ['a state since', { state: ['failed'], since: SINCE }, ['tasks_state_created']],
  [
    'a type since and until',
    { type: 'echo', since: SINCE, until: UNTIL },
    ['tasks_type_created', 'responses_type_created'],
  ],
  ['a cursor', { cursor: CURSOR }, ['tasks_created']],
  ['a state and a cursor', { state: ['failed'], cursor: CURSOR }, ['tasks_state_created']],
  [
    'a type and a cursor',
    { type: 'echo', cursor: CURSOR },
    ['tasks_type_created', 'responses_type_created'],
  ],
  [
    'two states, a type, since and a cursor',
    { state: ['failed', 'poisoned'], type: 'other', since: SINCE, cursor: CURSOR },
    ['tasks_type_state_created', 'responses_type_created'],
  ],
  // A field alone is checked on each row read in order (not indexed on SQLite; the other
  // filters bound it): still no sort.
  ['a field', { field: FIELD }, ['tasks_created']],
  ['a state and a field', { state: ['failed'], field: FIELD }, ['tasks_state_created']],
];

describe('SQLite list plans', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tq-store-plans-'));
  let store: SqliteTaskStore;
  let db: Database.Database;

  beforeAll(async () => {
    store = new SqliteTaskStore({ path: join(dir, 'tasks.db') });
    await store.migrate();
    db = new Database(join(dir, 'tasks.db'), { readonly: true });
  });
  afterAll(async () => {
    db?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const planOf = (sql: string, params: unknown[]) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map(
      (row) => row.detail,
    );

  it.each(SHAPES)('%s: an index range in page order, nothing sorted', (_, shape, indexes) => {
    const { sql, params } = listSql({ limit: 50, ...shape });
    const plan = planOf(sql, params);
    expect(
      plan.filter((line) => line.includes('TEMP B-TREE')),
      plan.join('\n'),
    ).toEqual([]);
    // Every table read goes through an index (a bare `SCAN tasks` would read them all).
    const reads = plan.filter((line) => /^(SCAN|SEARCH) /.test(line));
    expect(reads.length).toBeGreaterThan(0);
    for (const line of reads) expect(line, plan.join('\n')).toMatch(/ USING (COVERING )?INDEX /);
    for (const index of indexes) {
      expect(
        plan.some((line) => new RegExp(`INDEX ${index}( |$)`).test(line)),
        `${index} in\n${plan.join('\n')}`,
      ).toBe(true);
    }
    // A single state or type narrows the range, not a filter on a wider one.
    if (shape.state !== undefined || shape.type !== undefined) {
      expect(plan.some((line) => line.startsWith('SEARCH '))).toBe(true);
    }
  });

  it('throughput reads tasks_state_finished, a range of finished_at for each final state', () => {
    const plan = planOf(THROUGHPUT_SQL, [60, 60, ...THROUGHPUT_STATES, SINCE, UNTIL]);
    expect(plan.join('\n')).toMatch(
      /SEARCH tasks USING COVERING INDEX tasks_state_finished \(state=\? AND finished_at>\? AND finished_at<\?\)/,
    );
    expect(plan.filter((line) => line.includes('FOR ORDER BY'))).toEqual([]);
  });
});

describe('SQLite list shapes give what the reference gives', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tq-store-shapes-'));
  const sqlite = new SqliteTaskStore({ path: join(dir, 'tasks.db') });
  const memory = new MemoryTaskStore();
  const stores: TaskStore[] = [sqlite, memory];
  const FINALS = ['succeeded', 'failed', 'poisoned', 'expired'] as const;

  beforeAll(async () => {
    await sqlite.migrate();
    for (let i = 0; i < 120; i++) {
      const at = new Date(Date.parse(SINCE) + (i % 40) * 30_000).toISOString();
      // Same times for several tasks: the id breaks the tie.
      const id = `t-${String(i).padStart(3, '0')}`;
      const fanOut = i % 5 === 0;
      const types = fanOut
        ? i % 2
          ? ['other', 'echo']
          : ['echo', 'other']
        : [i % 3 ? 'echo' : 'other'];
      for (const store of stores) {
        await store.submit({ id, types, workitem: { fields: { repo: `r${i % 7}` } }, at });
        if (i % 6 === 5) continue; // stays submitted
        for (const type of types) {
          const event: TaskEvent = {
            event: FINALS[(i + type.length) % FINALS.length]!,
            taskId: id,
            type,
            attempt: 1,
            at: new Date(Date.parse(at) + 1000).toISOString(),
          };
          await store.apply(event);
        }
      }
    }
  });
  afterAll(async () => {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(SHAPES)('%s: the same pages', async (_, shape) => {
    const pages = async (store: TaskStore) => {
      const seen: string[][] = [];
      let cursor = shape.cursor;
      do {
        const page = await store.list({ ...shape, limit: 7, ...(cursor ? { cursor } : {}) });
        seen.push(page.tasks.map((t) => `${t.id} ${t.state} ${t.createdAt}`));
        cursor = page.next;
      } while (cursor !== undefined);
      return seen;
    };
    const expected = await pages(memory);
    expect(await pages(sqlite)).toEqual(expected);
    expect(expected.flat().length).toBeGreaterThan(0);
  });
});
