/** The shapes the dashboard reads from /v1 (docs/api.md; only what it shows). */

import type { TaskState } from '../../common/task-states.js';

export {
  FINAL_STATES,
  isFinal,
  isRetryable,
  RETRYABLE_STATES,
  TASK_STATES,
  type TaskState,
} from '../../common/task-states.js';

export type Role = 'read' | 'retry' | 'operate';

export interface Whoami {
  name: string;
  role: Role;
  loopback: boolean;
  can: { submit: boolean; retry: boolean; cancel: boolean; requeue: boolean; drop: boolean };
}

/** The task records of GET /v1/tasks and /v1/tasks/{id}: the store's own types (types only). */
export type {
  AttemptRecord as Attempt,
  ResponseRecord as TaskResponse,
  TaskPage,
  TaskRecord as Task,
} from '../../api/store/types.js';

/** One `event: state` of GET /v1/events. */
export interface StateEvent {
  taskId: string;
  type?: string;
  types?: string[];
  state: TaskState;
  at: string;
}

export interface QueueRow {
  name: string;
  role: string;
  exists: boolean;
  ready: number | null;
  unacked: number | null;
  consumers: number | null;
  rate_in: number | null;
  rate_out: number | null;
}

/** What the delay ladder holds (src/cli/queues/delayed.ts DelayedSummary). */
export interface DelayedSummary {
  /** Tasks in the ladder's level queues; null when none was seen. */
  total: number | null;
  due_within_ms: number | null;
  /** The delayed tasks due soonest (the API's store). */
  soonest: Array<{ id: string; type: string; due: string }> | null;
  soonest_note: string | null;
}

export interface QueuesReport {
  source: string;
  management_error: { code: string; message: string } | null;
  unknown: string[];
  queues: QueueRow[];
  /** Absent from an API older than issue 30. */
  delayed?: DelayedSummary;
}

export interface PoolChild {
  pid: number;
  slot?: number;
  state: string;
  tasksDone?: number;
  inHand?: number;
  /** Of inHand, held but not started (`concurrency` reached); absent from older pools. */
  waiting?: number;
  restarts?: number;
}

/** A group's states (src/workerpool/supervisor/states.ts): only these two mean it serves. */
export const HEALTHY_GROUP_STATES: readonly string[] = ['serving', 'running'];

export interface PoolGroup {
  name: string;
  type?: string;
  state: string;
  user?: string;
  wanted?: number;
  running?: number;
  restarts?: number;
  children?: PoolChild[];
}

export interface Pool {
  host: string;
  pid: number;
  version?: string;
  state: string;
  at?: string;
  receivedAt?: string;
  groups?: PoolGroup[];
}

export interface PoolsReport {
  heartbeats: boolean;
  pools: Pool[];
}

export interface ThroughputBucket {
  at: string;
  succeeded: number;
  failed: number;
  poisoned: number;
  invalid: number;
  expired: number;
  cancelled: number;
  incomplete: number;
}

export interface Throughput {
  step: number;
  since: string;
  until: string;
  buckets: ThroughputBucket[];
}

export interface ParkedTask {
  message_id: string | null;
  correlation_id: string | null;
  type: string | null;
  reason: string | null;
  code: string | null;
  attempt: number | null;
  crashes: number | null;
  parked_at: string | null;
}

export interface ParkedList {
  queue: string;
  total: number;
  shown: number;
  tasks: ParkedTask[];
}

export interface DeadActionResult {
  queue: string;
  count: number;
  ids: string[];
  missing: string[];
  dryRun: boolean;
}
