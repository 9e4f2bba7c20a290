/**
 * A million rows (issue 29): the SQLite task store filled with ROWS tasks (default 1 000 000),
 * then the time of a page of 50 through the store's own `list` (the statement the API runs, and
 * each task's attempts and responses): page 1 and a page deep down by cursor, overall, by state,
 * by type, and a workitem-field search. `npm run bench:store-pages [-- ROWS]`; the figures are in
 * bench/FINDINGS.md ("A million rows"). No broker, no daemon.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT } from './systems.js';

interface Page {
  tasks: Array<{ id: string; createdAt: string }>;
  next?: string;
}
interface Store {
  migrate(): Promise<void>;
  list(query: Record<string, unknown>): Promise<Page>;
  close(): Promise<void>;
}

const rows = Number(process.argv[2] ?? 1_000_000);
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
/** One task a second from T0: task i was created at T0 + i s. */
const createdAt = (i: number) => new Date(T0 + i * 1000).toISOString();
const idOf = (i: number) => `seed-${String(i).padStart(8, '0')}`;
/** 70 % succeeded, 20 % failed, 5 % poisoned, 5 % running, spread over the types. */
const stateOf = (i: number) => {
  const k = (i * 7919) % 20;
  return k < 14 ? 'succeeded' : k < 18 ? 'failed' : k === 18 ? 'poisoned' : 'running';
};
/** Every 10th task is a `build`, every 50th a fan-out to `echo` and `archive` (archive only so). */
const typesOf = (i: number) =>
  i % 50 === 0 ? ['echo', 'archive'] : i % 10 === 3 ? ['build'] : ['echo'];

/** Median and 90th percentile milliseconds of `runs` calls of `body`. */
async function time(runs: number, body: () => Promise<unknown>): Promise<[number, number]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await body();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return [times[Math.floor(runs / 2)]!, times[Math.floor(runs * 0.9)]!];
}

async function seed(path: string): Promise<void> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const task = db.prepare(`INSERT INTO tasks (id, type, types, state, source, workitem, created_at,
    updated_at, finished_at) VALUES (?, ?, ?, ?, 'api', ?, ?, ?, ?)`);
  const response = db.prepare(`INSERT INTO responses (task_id, type, state, updated_at,
    task_created_at) VALUES (?, ?, ?, ?, ?)`);
  const attempt = db.prepare(`INSERT INTO attempts (task_id, run, attempt, host, pid, user,
    started_at, ended_at) VALUES (?, 1, 1, 'host-1', 4242, 'nobody', ?, ?)`);
  const chunk = 100_000;
  for (let from = 0; from < rows; from += chunk) {
    db.transaction(() => {
      for (let i = from; i < Math.min(rows, from + chunk); i++) {
        const types = typesOf(i);
        const state = stateOf(i);
        const at = createdAt(i);
        const end = state === 'running' ? null : new Date(T0 + i * 1000 + 500).toISOString();
        const workitem = JSON.stringify({ fields: { repo: `repo-${i % 20}`, job: `job-${i}` } });
        task.run(idOf(i), types[0], JSON.stringify(types), state, workitem, at, end ?? at, end);
        attempt.run(idOf(i), at, end);
        if (types.length > 1) {
          for (const type of types) response.run(idOf(i), type, state, end ?? at, at);
        }
      }
    })();
  }
  db.close();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tq-store-pages-'));
  try {
    const { SqliteTaskStore } = await import(join(ROOT, 'dist/api/store/sqlite-store.js'));
    const { encodeCursor } = await import(join(ROOT, 'dist/api/store/query.js'));
    const path = join(dir, 'tasks.db');
    const store: Store = new SqliteTaskStore({ path });
    await store.migrate();
    const seedStart = performance.now();
    await seed(path);
    const seconds = ((performance.now() - seedStart) / 1000).toFixed(0);
    const mib = (statSync(path).size / 2 ** 20).toFixed(0);
    console.log(`sqlite: ${rows} tasks seeded in ${seconds} s (${mib} MiB)`);

    // A cursor is the key of the last task of the page before: the one of task i starts the
    // page at task i - 1, as deep as following (rows - i) / 50 pages would reach.
    const deep = (i: number) => encodeCursor({ createdAt: createdAt(i), id: idOf(i) });
    const middle = Math.floor(rows / 2);
    const oldest = 1000;
    const cases: Array<[string, Record<string, unknown>, number]> = [
      ['page 1', {}, 21],
      ['page 1 by cursor, half-way down', { cursor: deep(middle) }, 21],
      ['near the end by cursor', { cursor: deep(oldest) }, 21],
      ['state failed, page 1', { state: ['failed'] }, 21],
      ['state failed, half-way down', { state: ['failed'], cursor: deep(middle) }, 21],
      [
        'states failed+poisoned, half-way',
        { state: ['failed', 'poisoned'], cursor: deep(middle) },
        21,
      ],
      ['type build, page 1', { type: 'build' }, 21],
      [
        'type build + failed, half-way',
        { type: 'build', state: ['failed'], cursor: deep(middle) },
        21,
      ],
      ['type build + poisoned (there is none)', { type: 'build', state: ['poisoned'] }, 21],
      ['type archive (fan-outs only), page 1', { type: 'archive' }, 21],
      ['type archive (fan-outs only), half-way', { type: 'archive', cursor: deep(middle) }, 21],
      ['an hour (since..until)', { since: createdAt(middle), until: createdAt(middle + 3600) }, 21],
      [
        'field repo (1 task in 20), page 1',
        { field: { path: 'fields.repo', value: 'repo-7' } },
        21,
      ],
      [
        'field repo (1 in 20), half-way down',
        { field: { path: 'fields.repo', value: 'repo-7' }, cursor: deep(middle) },
        21,
      ],
      [
        'field job (1 task), no other filter',
        { field: { path: 'fields.job', value: `job-${oldest}` } },
        3,
      ],
      [
        'field job (1 task), within an hour',
        {
          field: { path: 'fields.job', value: `job-${middle}` },
          since: createdAt(middle - 1800),
          until: createdAt(middle + 1800),
        },
        21,
      ],
    ];
    for (const [name, query, runs] of cases) {
      const page = await store.list({ limit: 50, ...query });
      const [median, p90] = await time(runs, () => store.list({ limit: 50, ...query }));
      console.log(
        `${name.padEnd(42)} ${median.toFixed(2).padStart(9)} ms median ${p90.toFixed(2).padStart(9)} ms p90 (${runs} runs, ${page.tasks.length} tasks${page.next ? ', more' : ''})`,
      );
    }
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
