/**
 * The task store's cost, apart from the daemons: events applied a second (one `apply` at a time,
 * as the tracker does) and the time of a list page with many rows, on SQLite and PostgreSQL.
 * `npm run build && tsc -p bench && node bench/dist/store.js [rows] [postgres-url]`; the figures
 * are in bench/FINDINGS.md ("The task store", issue 28).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT } from './systems.js';

interface Store {
  migrate(): Promise<void>;
  apply(event: Record<string, unknown>): Promise<boolean>;
  list(query: Record<string, unknown>): Promise<{ tasks: unknown[]; next?: string }>;
  close(): Promise<void>;
}

const rows = Number(process.argv[2] ?? 100_000);
const postgresUrl = process.argv[3] ?? 'postgres://postgres@127.0.0.1:5432/test';
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const STATES = ['succeeded', 'failed', 'running', 'queued'];

async function applyRate(store: Store, tasks: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < tasks; i++) {
    const base = { taskId: `bench-${i}`, type: 'echo', attempt: 1 };
    const at = new Date(T0 + 1e9 + i).toISOString();
    await store.apply({ ...base, event: 'received', at, workitem: { fields: { n: i } } });
    await store.apply({ ...base, event: 'started', at, host: 'h', pid: 1, user: 'u' });
    await store.apply({ ...base, event: 'succeeded', at, result: { ok: true } });
  }
  return (tasks * 3) / ((performance.now() - start) / 1000);
}

/** Median milliseconds of `runs` calls of `body`. */
async function median(runs: number, body: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await body();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

async function pages(name: string, store: Store): Promise<void> {
  const first = await store.list({ limit: 50 });
  // A page deep in the list: follow 200 cursors (10 000 rows in) once, then time the next one.
  let cursor = first.next;
  for (let i = 0; i < 200 && cursor; i++) cursor = (await store.list({ limit: 50, cursor })).next;
  const figures = {
    first: await median(21, () => store.list({ limit: 50 })),
    deep: await median(21, () => store.list({ limit: 50, cursor })),
    byState: await median(21, () => store.list({ limit: 50, state: ['failed'] })),
    byType: await median(21, () => store.list({ limit: 50, type: 'other' })),
    field: await median(5, () =>
      store.list({ limit: 50, field: { path: 'fields.repo', value: `r${rows - 7}` } }),
    ),
  };
  console.log(
    `${name} ${rows} rows: page of 50 (median ms) first ${figures.first.toFixed(2)}, 10 000 in ${figures.deep.toFixed(2)}, by state ${figures.byState.toFixed(2)}, by type ${figures.byType.toFixed(2)}, by field (rare value) ${figures.field.toFixed(2)}`,
  );
}

async function sqlite(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tq-store-bench-'));
  try {
    const { SqliteTaskStore } = await import(join(ROOT, 'dist/api/store/sqlite-store.js'));
    const path = join(dir, 'tasks.db');
    const store: Store = new SqliteTaskStore({ path });
    await store.migrate();
    console.log(`sqlite apply: ${(await applyRate(store, 3000)).toFixed(0)} events/s`);
    // Seeding through one statement a row in one transaction: apply() would take minutes.
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path);
    const insert = db.prepare(`INSERT INTO tasks (id, type, types, state, source, workitem,
      created_at, updated_at) VALUES (?, ?, '["echo"]', ?, 'queue', ?, ?, ?)`);
    db.transaction(() => {
      for (let i = 0; i < rows; i++) {
        const at = new Date(T0 + i * 1000).toISOString();
        const wi = JSON.stringify({ fields: { repo: `r${i}` } });
        insert.run(`seed-${i}`, i % 10 ? 'echo' : 'other', STATES[i % 4], wi, at, at);
      }
    })();
    db.close();
    await pages('sqlite', store);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgres(): Promise<void> {
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  const schema = `tq_store_bench_${process.pid}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  try {
    const { PostgresTaskStore } = await import(join(ROOT, 'dist/api/store/postgres-store.js'));
    const store: Store = new PostgresTaskStore({ connectionString: postgresUrl, schema });
    await store.migrate();
    console.log(`postgres apply: ${(await applyRate(store, 1000)).toFixed(0)} events/s`);
    await admin.query(`SET search_path = ${schema}`);
    await admin.query(
      `INSERT INTO tasks (id, type, types, state, source, workitem, created_at, updated_at)
       SELECT 'seed-' || i, CASE WHEN i % 10 = 0 THEN 'other' ELSE 'echo' END, '["echo"]',
         ($2::text[])[i % 4 + 1], 'queue', jsonb_build_object('fields', jsonb_build_object('repo', 'r' || i)),
         to_timestamp($3::double precision / 1000 + i), to_timestamp($3::double precision / 1000 + i)
       FROM generate_series(0, $1 - 1) AS i`,
      [rows, STATES, T0],
    );
    await admin.query('ANALYZE tasks');
    await pages('postgres', store);
    await store.close();
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

await sqlite();
await postgres();
