import {
  FINAL_STATES,
  type RetentionPolicy,
  type TaskEvent,
  type TaskPage,
  type TaskQuery,
  type TaskRecord,
  type TaskState,
  type TaskStore,
} from '../../src/api/store/types.js';

/** The state an event moves a task to. */
const STATE_OF: Record<TaskEvent['event'], TaskState> = {
  received: 'queued',
  invalid: 'invalid',
  started: 'running',
  retrying: 'retrying',
  succeeded: 'succeeded',
  failed: 'failed',
  poisoned: 'poisoned',
  expired: 'expired',
  cancelled: 'cancelled',
};

const isFinal = (state: TaskState) => FINAL_STATES.includes(state);

/**
 * A TaskStore in memory, for unit tests of the tracker and the routes until the real stores
 * (src/api/store/) are merged; its `apply` is the reference for their precedence rules. Not a
 * stand-in for the real stores in integration tests.
 */
export class MemoryTaskStore implements TaskStore {
  readonly tasks = new Map<string, TaskRecord>();
  readonly #byKey = new Map<string, string>();

  async migrate(): Promise<void> {}

  async submit(task: {
    id: string;
    types: string[];
    workitem: unknown;
    idempotencyKey?: string;
    at: string;
  }): Promise<{ record: TaskRecord; created: boolean }> {
    const existing = task.idempotencyKey && this.#byKey.get(task.idempotencyKey);
    if (existing) return { record: structuredClone(this.tasks.get(existing)!), created: false };
    const record: TaskRecord = {
      id: task.id,
      type: task.types[0]!,
      types: [...task.types],
      state: 'submitted',
      source: 'api',
      idempotencyKey: task.idempotencyKey,
      workitem: task.workitem,
      attempts: [],
      responses: [],
      createdAt: task.at,
      updatedAt: task.at,
    };
    this.tasks.set(task.id, record);
    if (task.idempotencyKey) this.#byKey.set(task.idempotencyKey, task.id);
    return { record: structuredClone(record), created: true };
  }

  async markQueued(id: string, at: string): Promise<void> {
    const record = this.tasks.get(id);
    if (record?.state === 'submitted') Object.assign(record, { state: 'queued', updatedAt: at });
  }

  async apply(event: TaskEvent): Promise<boolean> {
    let record = this.tasks.get(event.taskId);
    if (!record) {
      record = {
        id: event.taskId,
        type: event.type,
        types: [event.type],
        state: 'queued',
        source: 'queue',
        attempts: [],
        responses: [],
        createdAt: event.at,
        updatedAt: event.at,
      };
      this.tasks.set(event.taskId, record);
    }
    const before = JSON.stringify(record);
    if (event.workitem !== undefined && record.workitem === undefined)
      record.workitem = event.workitem;
    if (event.attempt !== undefined) {
      let attempt = record.attempts.find((a) => a.attempt === event.attempt);
      if (!attempt) {
        attempt = { attempt: event.attempt };
        record.attempts.push(attempt);
        record.attempts.sort((a, b) => a.attempt - b.attempt);
      }
      if (event.event === 'started') {
        Object.assign(attempt, {
          host: event.host,
          pid: event.pid,
          user: event.user,
          startedAt: attempt.startedAt ?? event.at,
        });
      } else if (event.event !== 'received') {
        attempt.endedAt ??= event.at;
        if (event.error !== undefined) attempt.error = event.error;
        if (event.errorCode !== undefined) attempt.errorCode = event.errorCode;
        if (event.crashLog !== undefined) attempt.crashLog = event.crashLog;
      }
    }
    const next = STATE_OF[event.event];
    if (!isFinal(record.state) && (isFinal(next) || record.state !== next)) {
      // Intermediate states only move forward in the table's order; finals always win.
      const order = (s: TaskState) =>
        ['submitted', 'queued', 'dispatched', 'running', 'retrying'].indexOf(s);
      if (isFinal(next) || event.event === 'retrying' || order(next) >= order(record.state)) {
        record.state = next;
        if (event.event === 'retrying') record.nextAttemptAt = event.nextAttemptAt;
        if (isFinal(next)) {
          record.finishedAt = event.at;
          if (event.result !== undefined) record.result = event.result;
        }
      }
    }
    const changed = JSON.stringify(record) !== before;
    if (changed) record.updatedAt = event.at;
    return changed;
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const record = this.tasks.get(id);
    return record && structuredClone(record);
  }

  async list(query: TaskQuery): Promise<TaskPage> {
    const all = [...this.tasks.values()]
      .filter((t) => !query.state || query.state.includes(t.state))
      .filter((t) => !query.type || t.types.includes(query.type))
      .filter((t) => !query.since || t.createdAt >= query.since)
      .filter((t) => !query.until || t.createdAt < query.until)
      .filter((t) => !query.field || fieldOf(t.workitem, query.field.path) === query.field.value)
      .sort((a, b) =>
        a.createdAt === b.createdAt ? a.id.localeCompare(b.id) : a.createdAt < b.createdAt ? 1 : -1,
      );
    const start = query.cursor ? Number(query.cursor) : 0;
    const tasks = all.slice(start, start + query.limit).map((t) => structuredClone(t));
    const end = start + tasks.length;
    return { tasks, next: end < all.length ? String(end) : undefined };
  }

  async sweep(policy: RetentionPolicy, now: string): Promise<number> {
    let deleted = 0;
    for (const [id, t] of this.tasks) {
      const keep = policy.keepSeconds[t.state];
      if (!t.finishedAt || keep === undefined) continue;
      if (Date.parse(t.finishedAt) + keep * 1000 <= Date.parse(now)) {
        this.tasks.delete(id);
        if (t.idempotencyKey) this.#byKey.delete(t.idempotencyKey);
        deleted++;
      }
    }
    return deleted;
  }

  async close(): Promise<void> {}
}

function fieldOf(value: unknown, path: string): unknown {
  let at = value;
  for (const part of path.split('.')) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}
