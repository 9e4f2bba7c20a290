import { setImmediate as yieldToLoop } from 'node:timers/promises';
import pg from 'pg';
import { pendingMigrations, SCHEMA_MIGRATIONS_DDL } from './migrations.js';
import {
  applyEvent,
  firstSeenRecord,
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
import { POSTGRES_MIGRATIONS } from './sql/postgres.js';
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

export interface PostgresStoreOptions {
  /** `postgres://user@host:port/database`. */
  connectionString: string;
  /** A schema to keep the tables in (the search_path of every connection); default `public`. */
  schema?: string;
  caps?: StoreCaps;
  /** Connections of the pool. */
  max?: number;
  /**
   * Told when an idle connection fails (the server restarted, the network dropped): the pool
   * drops it and the next query opens another. Without a listener pg's pool would throw the
   * error out of the process.
   */
  onIdleError?: (err: Error) => void;
}

const decode: Decode = {
  json: (v) => v,
  time: (v) => (typeof v === 'string' ? new Date(v).toISOString() : v.toISOString()),
};

/** Every daemon migrating one database takes this lock; the number is arbitrary but fixed. */
const MIGRATION_LOCK = 2_028_000_001;

/**
 * `INSERT … ON CONFLICT` over named parameters, as pg's $1…$n: `update` lists the columns an
 * existing row takes from the new one; none: the existing row stays as it is (DO NOTHING).
 */
function upsert(
  table: string,
  columns: string[],
  key: string[],
  update: string[],
): (params: Record<string, unknown>) => [string, unknown[]] {
  const onConflict = update.length
    ? `(${key.join(', ')}) DO UPDATE SET ${update.map((c) => `"${c}" = excluded."${c}"`).join(', ')}`
    : 'DO NOTHING';
  const sql = `INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(', ')})
    VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT ${onConflict}`;
  return (params) => [sql, columns.map((c) => params[c])];
}

const besides = (columns: string[], fixed: string[]) => columns.filter((c) => !fixed.includes(c));

const TASK_COLUMNS = Object.keys(taskParams(firstSeenRecord({} as TaskEvent)));
const ATTEMPT_COLUMNS = Object.keys(attemptParams('', { attempt: 0 }));
const RESPONSE_COLUMNS = Object.keys(
  responseParams({ id: '', createdAt: '' }, { type: '', state: 'queued', updatedAt: '' }),
);
// What a task was created with never changes; the rest follows the record.
const upsertTask = upsert(
  'tasks',
  TASK_COLUMNS,
  ['id'],
  besides(TASK_COLUMNS, ['id', 'type', 'types', 'source', 'idempotency_key', 'created_at']),
);
const insertTask = upsert('tasks', TASK_COLUMNS, ['id'], []);
const upsertAttempt = upsert(
  'attempts',
  ATTEMPT_COLUMNS,
  ['task_id', 'run', 'attempt'],
  besides(ATTEMPT_COLUMNS, ['task_id', 'run', 'attempt']),
);
const upsertResponse = upsert(
  'responses',
  RESPONSE_COLUMNS,
  ['task_id', 'type'],
  besides(RESPONSE_COLUMNS, ['task_id', 'type', 'task_created_at']),
);

/**
 * The TaskStore for several API daemons sharing one database. Each `apply` runs in one
 * transaction holding the task's row lock (`SELECT … FOR UPDATE`; a first-heard task is
 * inserted with `ON CONFLICT DO NOTHING` and then locked), so two daemons applying events of
 * the same task serialise on it and reach the result one daemon would.
 */
export class PostgresTaskStore implements TaskStore {
  readonly #pool: pg.Pool;
  readonly #caps: StoreCaps;

  constructor(options: PostgresStoreOptions) {
    this.#pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? 4,
      // So that an operator sees in pg_stat_activity whose connections these are.
      application_name:
        options.schema === undefined ? 'taskqueue-api' : `taskqueue-api:${options.schema}`,
      ...(options.schema === undefined
        ? {}
        : { options: `-c search_path=${quoteIdent(options.schema)}` }),
    });
    this.#pool.on('error', options.onIdleError ?? (() => {}));
    this.#caps = options.caps ?? {};
  }

  async migrate(): Promise<void> {
    await this.#transaction(async (c) => {
      // Two daemons starting at once: the second waits here, then finds nothing to do.
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await c.query(SCHEMA_MIGRATIONS_DDL);
      const { rows } = await c.query<{ v: number | null }>(
        'SELECT max(version) AS v FROM schema_migrations',
      );
      for (const m of pendingMigrations(rows[0]?.v ?? 0, POSTGRES_MIGRATIONS)) {
        await c.query(m.sql);
        await c.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [
          m.version,
          new Date().toISOString(),
        ]);
      }
    });
  }

  async submit(task: SubmittedTask): Promise<{ record: TaskRecord; created: boolean }> {
    return this.#transaction(async (c) => {
      const record = submittedRecord(task, this.#caps);
      // Any conflict (the id or the idempotency key) means the task exists: nothing changes.
      const inserted = await c.query(...insertTask(taskParams(record)));
      if (inserted.rowCount === 1) {
        await this.#writeChildren(c, record);
        return { record, created: true };
      }
      const { rows } = await c.query<{ id: string }>(
        'SELECT id FROM tasks WHERE idempotency_key = $1 OR id = $2 ORDER BY (idempotency_key = $1) IS TRUE DESC LIMIT 1',
        [task.idempotencyKey ?? null, task.id],
      );
      const existing = rows[0] && (await this.#load(c, rows[0].id));
      if (!existing) throw new Error(`task ${task.id} conflicts with a row that is gone`);
      return { record: existing, created: false };
    });
  }

  async markQueued(id: string, at: string, state: PublishedState = 'queued'): Promise<void> {
    await this.#pool.query(
      "UPDATE tasks SET state = $3, updated_at = $1 WHERE id = $2 AND state = 'submitted'",
      [at, id, state],
    );
  }

  async apply(event: TaskEvent): Promise<boolean> {
    return this.#transaction(async (c) => {
      let current = await this.#load(c, event.taskId, true);
      if (!current) {
        const inserted = await c.query(...insertTask(taskParams(firstSeenRecord(event))));
        // Another daemon inserted it first: wait for its lock, then apply on what it wrote.
        if (inserted.rowCount === 0) current = await this.#load(c, event.taskId, true);
      }
      const { record, changed } = applyEvent(current, event, this.#caps);
      if (changed) {
        await c.query(...upsertTask(taskParams(record)));
        await this.#writeChildren(c, record);
      }
      return changed;
    });
  }

  async retry(id: string, at: string): Promise<{ record: TaskRecord; moved: boolean } | undefined> {
    return this.#transaction(async (c) => {
      // Under the row's lock: a tracker applying the task's event waits, and sees the new run.
      const current = await this.#load(c, id, true);
      if (!current) return undefined;
      if (!RETRYABLE_STATES.includes(current.state)) return { record: current, moved: false };
      const record = retriedRecord(current, at);
      await c.query(...upsertTask(taskParams(record)));
      await this.#writeChildren(c, record);
      return { record, moved: true };
    });
  }

  async applyBatch(events: readonly TaskEvent[]): Promise<boolean[]> {
    // By task, each task's events in their order; the tasks locked in the order of their ids,
    // so that two daemons applying batches of the same tasks never wait on each other in a ring.
    const byTask = new Map<string, number[]>();
    events.forEach((event, i) => {
      byTask.set(event.taskId, [...(byTask.get(event.taskId) ?? []), i]);
    });
    const changed = events.map(() => false);
    await this.#transaction(async (c) => {
      for (const id of [...byTask.keys()].sort()) {
        const positions = byTask.get(id)!;
        let current = await this.#load(c, id, true);
        if (!current) {
          const first = firstSeenRecord(events[positions[0]!]!);
          const inserted = await c.query(...insertTask(taskParams(first)));
          if (inserted.rowCount === 0) current = await this.#load(c, id, true);
        }
        let dirty = false;
        for (const i of positions) {
          const applied = applyEvent(current, events[i]!, this.#caps);
          changed[i] = applied.changed;
          if (applied.changed) {
            current = applied.record;
            dirty = true;
          }
        }
        if (dirty && current) {
          await c.query(...upsertTask(taskParams(current)));
          await this.#writeChildren(c, current);
        }
      }
    });
    return changed;
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const c = await this.#pool.connect();
    try {
      return await this.#load(c, id);
    } finally {
      c.release();
    }
  }

  async list(query: TaskQuery): Promise<TaskPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (query.state?.length) where.push(`state = ANY(${p(query.state)}::text[])`);
    if (query.type !== undefined) {
      const t = p(query.type);
      where.push(`(type = ${t} OR id IN (SELECT task_id FROM responses WHERE type = ${t}))`);
    }
    if (query.since !== undefined) where.push(`created_at >= ${p(query.since)}::timestamptz`);
    if (query.until !== undefined) where.push(`created_at < ${p(query.until)}::timestamptz`);
    if (query.field) {
      const parts = fieldPathParts(query.field.path);
      // Containment finds candidates through the GIN index; the path equality makes it exact
      // (containment would also match an array holding the value).
      const contained = parts.reduceRight<unknown>(
        (inner, key) => ({ [key]: inner }),
        query.field.value,
      );
      where.push(
        `workitem @> ${p(JSON.stringify(contained))}::jsonb AND workitem #> ${p(parts)}::text[] = ${p(JSON.stringify(query.field.value))}::jsonb`,
      );
    }
    if (query.cursor !== undefined) {
      const key = decodeCursor(query.cursor);
      where.push(`(created_at, id) < (${p(key.createdAt)}::timestamptz, ${p(key.id)})`);
    }
    const sql = `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id DESC LIMIT ${p(query.limit + 1)}`;
    const c = await this.#pool.connect();
    try {
      const { rows } = await c.query<TaskRow>(sql, params);
      const page = rows.slice(0, query.limit);
      const ids = page.map((r) => r.id);
      const attempts = await c.query<AttemptRow>(
        'SELECT * FROM attempts WHERE task_id = ANY($1::text[])',
        [ids],
      );
      const responses = await c.query<ResponseRow>(
        'SELECT * FROM responses WHERE task_id = ANY($1::text[])',
        [ids],
      );
      const tasks = page.map((row) =>
        recordOf(
          row,
          attempts.rows.filter((a) => a.task_id === row.id),
          responses.rows.filter((r) => r.task_id === row.id),
          decode,
        ),
      );
      const last = tasks.at(-1);
      return {
        tasks,
        ...(rows.length > query.limit && last
          ? { next: encodeCursor({ createdAt: last.createdAt, id: last.id }) }
          : {}),
      };
    } finally {
      c.release();
    }
  }

  async throughput(since: string, until: string, stepSeconds: number): Promise<ThroughputBucket[]> {
    // By index tasks_state_finished: one range of finished_at for each final state.
    const { rows } = await this.#pool.query<BucketCount>(
      `SELECT state, (floor(extract(epoch FROM finished_at) / $1) * $1)::bigint AS bucket,
         count(*)::integer AS count
       FROM tasks
       WHERE state = ANY($2::text[]) AND finished_at IS NOT NULL
         AND finished_at >= $3::timestamptz AND finished_at < $4::timestamptz
       GROUP BY state, bucket`,
      [stepSeconds, THROUGHPUT_STATES, since, until],
    );
    return denseBuckets(
      since,
      until,
      stepSeconds,
      rows.map((r) => ({ ...r, bucket: Number(r.bucket) })),
    );
  }

  async sweep(policy: RetentionPolicy, now: string): Promise<number> {
    let deleted = 0;
    for (const [state, keep] of Object.entries(policy.keepSeconds) as [TaskState, number][]) {
      if (keep === undefined) continue;
      const cutoff = new Date(Date.parse(now) - keep * 1000).toISOString();
      for (;;) {
        const { rowCount } = await this.#pool.query(
          `DELETE FROM tasks WHERE id IN (SELECT id FROM tasks
            WHERE state = $1 AND finished_at IS NOT NULL AND finished_at <= $2 LIMIT $3)`,
          [state, cutoff, policy.chunk],
        );
        deleted += rowCount ?? 0;
        if ((rowCount ?? 0) < policy.chunk) break;
        await yieldToLoop();
      }
    }
    return deleted;
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  async #transaction<T>(body: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.#pool.connect();
    try {
      await c.query('BEGIN');
      const result = await body(c);
      await c.query('COMMIT');
      return result;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  async #load(c: pg.PoolClient, id: string, lock = false): Promise<TaskRecord | undefined> {
    const { rows } = await c.query<TaskRow>(
      `SELECT * FROM tasks WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
      [id],
    );
    if (!rows[0]) return undefined;
    const attempts = await c.query<AttemptRow>('SELECT * FROM attempts WHERE task_id = $1', [id]);
    const responses = await c.query<ResponseRow>('SELECT * FROM responses WHERE task_id = $1', [
      id,
    ]);
    return recordOf(rows[0], attempts.rows, responses.rows, decode);
  }

  async #writeChildren(c: pg.PoolClient, record: TaskRecord): Promise<void> {
    for (const a of record.attempts) await c.query(...upsertAttempt(attemptParams(record.id, a)));
    for (const r of record.responses) {
      await c.query(...upsertResponse(responseParams(record, r)));
    }
  }
}

/** A PostgreSQL identifier, quoted (a schema name comes from config or a test). */
function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
