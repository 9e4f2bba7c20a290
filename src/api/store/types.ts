import type { TaskState } from '../../common/task-states.js';
import type { WireEvent } from '../../common/tracking/event.js';
import type { ThroughputBucket } from './throughput.js';

/**
 * What the API daemon's store keeps of a task, and the one interface its two back ends (SQLite
 * by default, PostgreSQL when several API daemons share a store) implement. The tracker writes
 * through `apply`; the HTTP routes read and submit through the rest.
 */

export { FINAL_STATES, TASK_STATES, type TaskState } from '../../common/task-states.js';

/** One try of a task by a child. */
export interface AttemptRecord {
  attempt: number;
  /** The run this attempt belongs to (TaskRecord.run); absent: the first. */
  run?: number;
  host?: string;
  pid?: number;
  user?: string;
  startedAt?: string;
  endedAt?: string;
  error?: string;
  errorCode?: string;
  crashLog?: string[];
}

/** The answer of one type, for a task addressed to several (fan-out). */
export interface ResponseRecord {
  type: string;
  state: TaskState;
  result?: unknown;
  resultTruncated?: boolean;
  /** Why this type's answer is not a success (its final event's error and code). */
  error?: string;
  errorCode?: string;
  updatedAt: string;
}

export interface TaskRecord {
  id: string;
  /** The first type; for a fan-out every type is in `types`. */
  type: string;
  types: string[];
  state: TaskState;
  /** `api` when submitted through the API, `queue` when first seen by the dispatcher. */
  source: 'api' | 'queue';
  idempotencyKey?: string;
  workitem?: unknown;
  workitemTruncated?: boolean;
  result?: unknown;
  /** True when the result was larger than the store's cap and was cut (the cap is in `resultCap`). */
  resultTruncated?: boolean;
  resultCap?: number;
  /**
   * Which run of the task this is: absent (1) for the first, one more for each retry. Events
   * of an earlier run (a late duplicate of its final) are not applied to a later one.
   */
  run?: number;
  attempts: AttemptRecord[];
  responses: ResponseRecord[];
  nextAttemptAt?: string;
  /**
   * The time the task was to wait for in the broker (issue 30; docs/delays.md), as it was
   * submitted or as the dispatcher's `received` said. Kept after it ran, and by a retry (which
   * runs at once): it says what the task was submitted with.
   */
  notBefore?: string;
  /** The task's deadline as it was submitted (a retry runs without it, as notBefore). */
  expiresAt?: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
}

/**
 * A lifecycle event as the tracker applies it: the wire form (src/common/tracking/event.ts)
 * without its version. `truncated` says the copy it carries (`workitem` on `received`, `result`
 * on a final) was already cut to the events' cap; the store records that.
 */
export type TaskEvent = Omit<WireEvent, 'v'>;

export interface TaskQuery {
  state?: TaskState[];
  type?: string;
  /** ISO times, on createdAt. */
  since?: string;
  until?: string;
  /** A workitem field by dotted path (`fields.repo`) and the value it must equal. */
  field?: { path: string; value: string | number | boolean };
  limit: number;
  /** Opaque: the `next` of the previous page. */
  cursor?: string;
}

export interface TaskPage {
  tasks: TaskRecord[];
  /** Undefined on the last page. */
  next?: string;
}

export interface RetentionPolicy {
  /** Seconds a task is kept after it finished, by final state. */
  keepSeconds: Partial<Record<TaskState, number>>;
  /** Rows deleted per statement, so that a sweep never holds the store for long. */
  chunk: number;
}

/** What `TaskStore.submit` records: a task as the API received it, before it is published. */
export interface SubmittedTask {
  id: string;
  types: string[];
  workitem: unknown;
  idempotencyKey?: string;
  at: string;
  /** ISO times the task is published with (NOT_BEFORE_HEADER, EXPIRES_AT_HEADER). */
  notBefore?: string;
  expiresAt?: string;
}

/** The state a published task is in: `delayed` when it waits in the broker for its not-before. */
export type PublishedState = 'queued' | 'delayed';

export interface TaskStore {
  /** Creates or upgrades the schema (versioned migrations); idempotent. */
  migrate(): Promise<void>;
  /**
   * Records a task submitted through the API before it is published. With an idempotency key
   * already used, returns the existing record and `created: false` (nothing changes).
   */
  submit(task: SubmittedTask): Promise<{ record: TaskRecord; created: boolean }>;
  /**
   * submitted → queued once the publish is confirmed; → `delayed` instead for a task published
   * with a not-before later than `at` (it waits in the broker's delay ladder).
   */
  markQueued(id: string, at: string, state?: PublishedState): Promise<void>;
  /**
   * Applies a lifecycle event in one transaction, by precedence: a final state is never
   * replaced by a non-final one; a repeated event changes nothing. Creates the task (source
   * `queue`) when the event is the first the store hears of it. Returns false when it changed
   * nothing.
   */
  apply(event: TaskEvent): Promise<boolean>;
  /**
   * Starts the next run of a task that ended in one of `RETRYABLE_STATES` (precedence.ts), in
   * one transaction: `run` + 1, state `submitted` (the API publishes it, then `markQueued`),
   * result and end cleared; a fan-out's types that succeeded keep their response, the others
   * start again. Attempts are kept (each says its run). `moved` is false, and the record as it
   * is, when its state was not retryable; undefined for an unknown id.
   */
  retry(id: string, at: string): Promise<{ record: TaskRecord; moved: boolean } | undefined>;
  /**
   * `apply` of each event, in order, in one transaction: what the store holds after it, and each
   * answer, are what applying them one at a time would give. The tracker's way (one commit for
   * the events in hand, not one an event).
   */
  applyBatch(events: readonly TaskEvent[]): Promise<boolean[]>;
  get(id: string): Promise<TaskRecord | undefined>;
  list(query: TaskQuery): Promise<TaskPage>;
  /**
   * Tasks that finished (on `finishedAt`) in [since, until), by final state, in buckets of
   * `stepSeconds`: every bucket, oldest first, zeros included. `since` and `until` are ISO times
   * at multiples of `stepSeconds` since the epoch. Reads the index on (state, finished_at).
   */
  throughput(since: string, until: string, stepSeconds: number): Promise<ThroughputBucket[]>;
  /** Deletes finished tasks past their retention, `chunk` rows a statement; returns how many. */
  sweep(policy: RetentionPolicy, now: string): Promise<number>;
  close(): Promise<void>;
}
