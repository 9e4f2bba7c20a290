import { applyInOrder } from '../../src/api/store/batch.js';
import {
  applyEvent,
  isoTime,
  RETRYABLE_STATES,
  retriedRecord,
  type StoreCaps,
  submittedRecord,
} from '../../src/api/store/precedence.js';
import { decodeCursor, encodeCursor, fieldOf, fieldPathParts } from '../../src/api/store/query.js';
import {
  type BucketCount,
  denseBuckets,
  type ThroughputBucket,
} from '../../src/api/store/throughput.js';
import type {
  PublishedState,
  RetentionPolicy,
  SubmittedTask,
  TaskEvent,
  TaskPage,
  TaskQuery,
  TaskRecord,
  TaskStore,
} from '../../src/api/store/types.js';

/**
 * A TaskStore in memory, for unit tests of the tracker and the routes. It applies events by the
 * same rules as the real stores (src/api/store/precedence.ts) and pages by the same keyset
 * cursor (src/api/store/query.ts); test/integration/store-contract.test.ts runs one suite
 * against it and both real stores. Not a stand-in for the real stores in integration tests.
 */
export class MemoryTaskStore implements TaskStore {
  readonly tasks = new Map<string, TaskRecord>();
  readonly #byKey = new Map<string, string>();
  readonly #caps: StoreCaps;

  constructor(options: { caps?: StoreCaps } = {}) {
    this.#caps = options.caps ?? {};
  }

  async migrate(): Promise<void> {}

  async submit(task: SubmittedTask): Promise<{ record: TaskRecord; created: boolean }> {
    const existing =
      (task.idempotencyKey && this.#byKey.get(task.idempotencyKey)) ||
      (this.tasks.has(task.id) ? task.id : undefined);
    if (existing) return { record: structuredClone(this.tasks.get(existing)!), created: false };
    const record = submittedRecord(task, this.#caps);
    this.tasks.set(task.id, record);
    if (task.idempotencyKey) this.#byKey.set(task.idempotencyKey, task.id);
    return { record: structuredClone(record), created: true };
  }

  async markQueued(id: string, at: string, state: PublishedState = 'queued'): Promise<void> {
    const record = this.tasks.get(id);
    if (record?.state === 'submitted') Object.assign(record, { state, updatedAt: isoTime(at) });
  }

  async apply(event: TaskEvent): Promise<boolean> {
    const { record, changed } = applyEvent(this.tasks.get(event.taskId), event, this.#caps);
    if (changed) this.tasks.set(event.taskId, record);
    return changed;
  }

  async retry(id: string, at: string): Promise<{ record: TaskRecord; moved: boolean } | undefined> {
    const current = this.tasks.get(id);
    if (!current) return undefined;
    if (!RETRYABLE_STATES.includes(current.state))
      return { record: structuredClone(current), moved: false };
    const record = retriedRecord(current, at);
    this.tasks.set(id, record);
    return { record: structuredClone(record), moved: true };
  }

  async applyBatch(events: readonly TaskEvent[]): Promise<boolean[]> {
    const { changed, toWrite } = applyInOrder(events, (id) => this.tasks.get(id), this.#caps);
    for (const record of toWrite) this.tasks.set(record.id, record);
    return changed;
  }

  async get(id: string): Promise<TaskRecord | undefined> {
    const record = this.tasks.get(id);
    return record && structuredClone(record);
  }

  async list(query: TaskQuery): Promise<TaskPage> {
    if (query.field) fieldPathParts(query.field.path);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const all = [...this.tasks.values()]
      .filter((t) => !query.state?.length || query.state.includes(t.state))
      .filter((t) => !query.type || t.types.includes(query.type))
      .filter((t) => !query.since || t.createdAt >= isoTime(query.since))
      .filter((t) => !query.until || t.createdAt < isoTime(query.until))
      .filter((t) => !query.field || fieldOf(t.workitem, query.field.path) === query.field.value)
      .filter((t) => !after || newer(after, t))
      .sort((a, b) => (newer(a, b) ? -1 : 1));
    const tasks = all.slice(0, query.limit).map((t) => structuredClone(t));
    const last = tasks.at(-1);
    return {
      tasks,
      ...(all.length > query.limit && last ? { next: encodeCursor(last) } : {}),
    };
  }

  async throughput(since: string, until: string, stepSeconds: number): Promise<ThroughputBucket[]> {
    const counts: BucketCount[] = [];
    for (const t of this.tasks.values()) {
      if (!t.finishedAt || t.finishedAt < isoTime(since) || t.finishedAt >= isoTime(until))
        continue;
      const seconds = Math.floor(Date.parse(t.finishedAt) / 1000);
      counts.push({ bucket: seconds - (seconds % stepSeconds), state: t.state, count: 1 });
    }
    return denseBuckets(since, until, stepSeconds, counts);
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

/** True when `a` sorts after `b` in (createdAt, id) order, i.e. `b` comes later in a page. */
function newer(a: { createdAt: string; id: string }, b: { createdAt: string; id: string }) {
  return a.createdAt === b.createdAt ? a.id > b.id : a.createdAt > b.createdAt;
}
