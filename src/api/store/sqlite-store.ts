import { setImmediate as yieldToLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { applyInOrder } from './batch.js';
import { pendingMigrations, SCHEMA_MIGRATIONS_DDL } from './migrations.js';
import {
  applyEvent,
  isoTime,
  RETRYABLE_STATES,
  retriedRecord,
  type StoreCaps,
  submittedRecord,
} from './precedence.js';
import { decodeCursor, encodeCursor, fieldPathParts } from './query.js';
import {
  type AttemptRow,
  attemptParams,
  type Decode,
  type ResponseRow,
  recordOf,
  responseParams,
  type TaskRow,
  taskParams,
} from './rows.js';
import { SQLITE_MIGRATIONS } from './sql/sqlite.js';
import {
  type BucketCount,
  denseBuckets,
  THROUGHPUT_STATES,
  type ThroughputBucket,
} from './throughput.js';
import type {
  PublishedState,
  RetentionPolicy,
  SubmittedTask,
  TaskEvent,
  TaskPage,
  TaskQuery,
  TaskRecord,
  TaskState,
  TaskStore,
} from './types.js';

/** Where the API daemon keeps its tasks unless `[api] store` says otherwise. */
export const DEFAULT_SQLITE_PATH = '/var/lib/taskqueue/tasks.db';

export interface SqliteStoreOptions {
  path: string;
  caps?: StoreCaps;
  /** How long a statement waits for another connection's write lock before it fails. */
  busyTimeoutMs?: number;
}

const decode: Decode = {
  json: (v) => JSON.parse(v as string),
  time: (v) => (typeof v === 'string' ? v : v.toISOString()),
};

const UPSERT_TASK = `INSERT INTO tasks (id, type, types, state, source, idempotency_key, workitem,
  workitem_truncated, result, result_truncated, result_cap, created_at, updated_at, finished_at,
  next_attempt_at, run, not_before, expires_at)
VALUES (@id, @type, @types, @state, @source, @idempotency_key, @workitem, @workitem_truncated,
  @result, @result_truncated, @result_cap, @created_at, @updated_at, @finished_at, @next_attempt_at,
  @run, @not_before, @expires_at)
ON CONFLICT (id) DO UPDATE SET state = excluded.state, workitem = excluded.workitem,
  workitem_truncated = excluded.workitem_truncated, result = excluded.result,
  result_truncated = excluded.result_truncated, result_cap = excluded.result_cap,
  updated_at = excluded.updated_at, finished_at = excluded.finished_at,
  next_attempt_at = excluded.next_attempt_at, run = excluded.run,
  not_before = excluded.not_before, expires_at = excluded.expires_at`;

const UPSERT_ATTEMPT = `INSERT INTO attempts (task_id, run, attempt, host, pid, user, started_at,
  ended_at, error, error_code, crash_log)
VALUES (@task_id, @run, @attempt, @host, @pid, @user, @started_at, @ended_at, @error, @error_code,
  @crash_log)
ON CONFLICT (task_id, run, attempt) DO UPDATE SET host = excluded.host, pid = excluded.pid,
  user = excluded.user, started_at = excluded.started_at, ended_at = excluded.ended_at,
  error = excluded.error, error_code = excluded.error_code, crash_log = excluded.crash_log`;

const UPSERT_RESPONSE = `INSERT INTO responses (task_id, type, state, result, result_truncated,
  error, error_code, updated_at, task_created_at)
VALUES (@task_id, @type, @state, @result, @result_truncated, @error, @error_code, @updated_at,
  @task_created_at)
ON CONFLICT (task_id, type) DO UPDATE SET state = excluded.state, result = excluded.result,
  result_truncated = excluded.result_truncated, error = excluded.error,
  error_code = excluded.error_code, updated_at = excluded.updated_at`;

/** Finished tasks by bucket (its start, epoch seconds) and state; the step is given twice. */
export const THROUGHPUT_SQL = `SELECT state,
  (CAST(strftime('%s', finished_at) AS INTEGER) / CAST(? AS INTEGER)) * ? AS bucket,
  count(*) AS count
FROM tasks
WHERE state IN (${THROUGHPUT_STATES.map(() => '?').join(', ')})
  AND finished_at IS NOT NULL AND finished_at >= ? AND finished_at < ?
GROUP BY state, bucket`;

/** The tasks table's columns, in order: every arm of a list query selects these. */
const TASK_COLUMNS = [
  'id',
  'type',
  'types',
  'state',
  'source',
  'idempotency_key',
  'workitem',
  'workitem_truncated',
  'result',
  'result_truncated',
  'result_cap',
  'created_at',
  'updated_at',
  'finished_at',
  'next_attempt_at',
  'run',
  'not_before',
  'expires_at',
];

/** The conditions every arm shares (time, field, cursor), on the arm's own key columns. */
function sharedConditions(
  query: TaskQuery,
  key: { createdAt: string; id: string; workitem: string },
): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (query.since !== undefined) {
    where.push(`${key.createdAt} >= ?`);
    params.push(isoTime(query.since));
  }
  if (query.until !== undefined) {
    where.push(`${key.createdAt} < ?`);
    params.push(isoTime(query.until));
  }
  if (query.field) {
    // Not indexed: checked on the rows the other conditions leave, read in order (a scan of
    // them when the value is rare; bench/FINDINGS.md).
    const path = `$${fieldPathParts(query.field.path)
      .map((p) => `."${p}"`)
      .join('')}`;
    const value = query.field.value;
    if (typeof value === 'boolean') {
      where.push(`json_type(${key.workitem}, ?) = ?`);
      params.push(path, String(value));
    } else {
      where.push(`json_type(${key.workitem}, ?) IN (${typeof value === 'number' ? "'integer', 'real'" : "'text'"})
        AND json_extract(${key.workitem}, ?) = ?`);
      params.push(path, path, value);
    }
  }
  if (query.cursor !== undefined) {
    const cursor = decodeCursor(query.cursor);
    where.push(`(${key.createdAt}, ${key.id}) < (?, ?)`);
    params.push(cursor.createdAt, cursor.id);
  }
  return { where, params };
}

/**
 * The statement of a list page and its parameters: `limit + 1` rows, newest first. Each filter
 * shape reads one index range in (created_at, id) order, and several ranges (a state each, the
 * fan-outs of a type) are arms of one UNION ALL that SQLite merges as they come (MERGE (UNION
 * ALL)), so nothing found is sorted and a page reads about `limit` rows whatever the table holds.
 * One `state IN (…)` or `type = ? OR id IN (…)` made SQLite sort every match (or scan).
 * test/integration/store-plans.test.ts reads the plan of every shape.
 */
export function listSql(query: TaskQuery): { sql: string; params: unknown[] } {
  const order = 'ORDER BY created_at DESC, id DESC LIMIT ?';
  const states = query.state?.length ? query.state : [undefined];
  const arms: string[] = [];
  const params: unknown[] = [];
  const onTasks = sharedConditions(query, {
    createdAt: 'created_at',
    id: 'id',
    workitem: 'workitem',
  });
  // The tasks whose (first) type and state are these: one index range each.
  for (const state of states) {
    const where = [
      ...(query.type === undefined ? [] : ['type = ?']),
      ...(state === undefined ? [] : ['state = ?']),
      ...onTasks.where,
    ];
    // Named, not left to the planner: without statistics it took the wider tasks_type_created
    // for a type, two states, since and a cursor, and filtered the states row by row.
    const index =
      query.type === undefined
        ? state === undefined
          ? 'tasks_created'
          : 'tasks_state_created'
        : state === undefined
          ? 'tasks_type_created'
          : 'tasks_type_state_created';
    arms.push(
      `SELECT * FROM tasks INDEXED BY ${index}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`,
    );
    if (query.type !== undefined) params.push(query.type);
    if (state !== undefined) params.push(state);
    params.push(...onTasks.params);
  }
  // The fan-outs naming the type further on: their responses, newest first by index
  // responses_type_created, the task's columns taken with the response's key.
  if (query.type !== undefined) {
    const onResponses = sharedConditions(query, {
      createdAt: 'r.task_created_at',
      id: 'r.task_id',
      workitem: 't.workitem',
    });
    const columns = TASK_COLUMNS.map((c) =>
      c === 'id'
        ? 'r.task_id AS id'
        : c === 'created_at'
          ? 'r.task_created_at AS created_at'
          : `t.${c}`,
    );
    const where = [
      'r.type = ?',
      't.type <> ?',
      ...(query.state?.length ? [`t.state IN (${query.state.map(() => '?').join(', ')})`] : []),
      ...onResponses.where,
    ];
    arms.push(`SELECT ${columns.join(', ')} FROM responses r INDEXED BY responses_type_created
      JOIN tasks t ON t.id = r.task_id
      WHERE ${where.join(' AND ')}`);
    params.push(query.type, query.type, ...(query.state ?? []), ...onResponses.params);
  }
  params.push(query.limit + 1);
  return { sql: `${arms.join(' UNION ALL ')} ${order}`, params };
}

/**
 * The default TaskStore: one SQLite file in WAL mode (readers never wait for the writer).
 * better-sqlite3 is synchronous, so every statement here is short: `apply` touches one task,
 * a list page reads `limit` rows by index, and a sweep deletes `chunk` rows a statement and
 * yields to the event loop between chunks.
 */
export class SqliteTaskStore implements TaskStore {
  readonly #db: Database.Database;
  readonly #caps: StoreCaps;
  readonly #statements: ReturnType<typeof prepare>;

  constructor(options: SqliteStoreOptions) {
    this.#db = new Database(options.path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    // WAL makes NORMAL durable across a crash of the program (not of the machine's power).
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.exec(SCHEMA_MIGRATIONS_DDL);
    this.#caps = options.caps ?? {};
    this.#statements = prepare(this.#db);
  }

  async migrate(): Promise<void> {
    // IMMEDIATE: a second daemon migrating the same file waits, then finds nothing to do.
    this.#db
      .transaction(() => {
        const applied = this.#statements.version.get() as { v: number | null };
        for (const m of pendingMigrations(applied.v ?? 0, SQLITE_MIGRATIONS)) {
          this.#db.exec(m.sql);
          this.#statements.recordVersion.run(m.version, new Date().toISOString());
        }
      })
      .immediate();
  }

  async submit(task: SubmittedTask): Promise<{ record: TaskRecord; created: boolean }> {
    return this.#db
      .transaction(() => {
        const s = this.#statements;
        const existingId = task.idempotencyKey
          ? (s.byKey.get(task.idempotencyKey) as { id: string } | undefined)?.id
          : undefined;
        const existing = this.#load(existingId ?? task.id);
        if (existing) return { record: existing, created: false };
        const record = submittedRecord(task, this.#caps);
        this.#write(record);
        return { record, created: true };
      })
      .immediate();
  }

  async markQueued(id: string, at: string, state: PublishedState = 'queued'): Promise<void> {
    this.#statements.markQueued.run(state, isoTime(at), id);
  }

  async apply(event: TaskEvent): Promise<boolean> {
    return this.#db
      .transaction(() => {
        const { record, changed } = applyEvent(this.#load(event.taskId), event, this.#caps);
        if (changed) this.#write(record);
        return changed;
      })
      .immediate();
  }

  async retry(id: string, at: string): Promise<{ record: TaskRecord; moved: boolean } | undefined> {
    return this.#db
      .transaction(() => {
        const current = this.#load(id);
        if (!current) return undefined;
        if (!RETRYABLE_STATES.includes(current.state)) return { record: current, moved: false };
        const record = retriedRecord(current, at);
        this.#write(record);
        return { record, moved: true };
      })
      .immediate();
  }

  async applyBatch(events: readonly TaskEvent[]): Promise<boolean[]> {
    return this.#db
      .transaction(() => {
        const { changed, toWrite } = applyInOrder(events, (id) => this.#load(id), this.#caps);
        for (const record of toWrite) this.#write(record);
        return changed;
      })
      .immediate();
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    return this.#load(id);
  }

  async list(query: TaskQuery): Promise<TaskPage> {
    const { sql, params } = listSql(query);
    // Cached by text: a query has few shapes (which filters, how many states).
    const rows = lazy(this.#db, sql).all(...params) as TaskRow[];
    const tasks = rows.slice(0, query.limit).map((row) => this.#withChildren(row));
    const last = tasks.at(-1);
    return {
      tasks,
      ...(rows.length > query.limit && last
        ? { next: encodeCursor({ createdAt: last.createdAt, id: last.id }) }
        : {}),
    };
  }

  async throughput(since: string, until: string, stepSeconds: number): Promise<ThroughputBucket[]> {
    const counts = this.#statements.throughput.all(
      stepSeconds,
      stepSeconds,
      ...THROUGHPUT_STATES,
      isoTime(since),
      isoTime(until),
    ) as BucketCount[];
    return denseBuckets(since, until, stepSeconds, counts);
  }

  async sweep(policy: RetentionPolicy, now: string): Promise<number> {
    let deleted = 0;
    for (const [state, keep] of Object.entries(policy.keepSeconds) as [TaskState, number][]) {
      if (keep === undefined) continue;
      const cutoff = new Date(Date.parse(now) - keep * 1000).toISOString();
      for (;;) {
        const { changes } = this.#statements.sweepChunk.run(state, cutoff, policy.chunk);
        deleted += changes;
        if (changes < policy.chunk) break;
        // Lets the API answer between chunks: the store is never held for a whole sweep.
        await yieldToLoop();
      }
    }
    return deleted;
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  #load(id: string): TaskRecord | undefined {
    const row = this.#statements.task.get(id) as TaskRow | undefined;
    return row && this.#withChildren(row);
  }

  #withChildren(row: TaskRow): TaskRecord {
    const attempts = this.#statements.attempts.all(row.id) as AttemptRow[];
    const responses = this.#statements.responses.all(row.id) as ResponseRow[];
    return recordOf(row, attempts, responses, decode);
  }

  #write(record: TaskRecord): void {
    const s = this.#statements;
    s.upsertTask.run(taskParams(record));
    for (const a of record.attempts) s.upsertAttempt.run(attemptParams(record.id, a));
    for (const r of record.responses) s.upsertResponse.run(responseParams(record, r));
  }
}

function prepare(db: Database.Database) {
  return {
    version: db.prepare('SELECT max(version) AS v FROM schema_migrations'),
    recordVersion: db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)'),
    // The rest are prepared on first use: the tables exist only after migrate().
    get task() {
      return lazy(db, 'SELECT * FROM tasks WHERE id = ?');
    },
    get attempts() {
      return lazy(db, 'SELECT * FROM attempts WHERE task_id = ?');
    },
    get responses() {
      return lazy(db, 'SELECT * FROM responses WHERE task_id = ?');
    },
    get byKey() {
      return lazy(db, 'SELECT id FROM tasks WHERE idempotency_key = ?');
    },
    get markQueued() {
      return lazy(
        db,
        "UPDATE tasks SET state = ?, updated_at = ? WHERE id = ? AND state = 'submitted'",
      );
    },
    get upsertTask() {
      return lazy(db, UPSERT_TASK);
    },
    get upsertAttempt() {
      return lazy(db, UPSERT_ATTEMPT);
    },
    get upsertResponse() {
      return lazy(db, UPSERT_RESPONSE);
    },
    // By index tasks_state_finished: one range of finished_at for each final state.
    get throughput() {
      return lazy(db, THROUGHPUT_SQL);
    },
    get sweepChunk() {
      return lazy(
        db,
        `DELETE FROM tasks WHERE rowid IN (SELECT rowid FROM tasks
          WHERE state = ? AND finished_at IS NOT NULL AND finished_at <= ? LIMIT ?)`,
      );
    },
  };
}

const cache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** A statement prepared once per database, on first use. */
function lazy(db: Database.Database, sql: string): Database.Statement {
  const statements = cache.get(db) ?? new Map<string, Database.Statement>();
  cache.set(db, statements);
  const statement = statements.get(sql) ?? db.prepare(sql);
  statements.set(sql, statement);
  return statement;
}
