import { byRunAndAttempt } from './precedence.js';
import type { AttemptRecord, ResponseRecord, TaskRecord, TaskState } from './types.js';

/**
 * Rows of the three tables as both stores read and write them, and their conversion to and from
 * a TaskRecord. Column values are what the driver hands back: SQLite gives text for JSON and
 * times and 0/1 for flags, PostgreSQL gives parsed jsonb, Date and boolean; `decode` evens that.
 */

export interface TaskRow {
  id: string;
  type: string;
  types: unknown;
  state: string;
  source: string;
  idempotency_key: string | null;
  workitem: unknown;
  workitem_truncated: number | boolean;
  result: unknown;
  result_truncated: number | boolean;
  result_cap: number | null;
  created_at: string | Date;
  updated_at: string | Date;
  finished_at: string | Date | null;
  next_attempt_at: string | Date | null;
  run: number;
  not_before: string | Date | null;
  expires_at: string | Date | null;
}

export interface AttemptRow {
  task_id: string;
  run: number;
  attempt: number;
  host: string | null;
  pid: number | null;
  user: string | null;
  started_at: string | Date | null;
  ended_at: string | Date | null;
  error: string | null;
  error_code: string | null;
  crash_log: unknown;
}

export interface ResponseRow {
  task_id: string;
  type: string;
  state: string;
  result: unknown;
  result_truncated: number | boolean;
  error: string | null;
  error_code: string | null;
  updated_at: string | Date;
}

/** How one dialect turns stored JSON and times back into values. */
export interface Decode {
  json(value: unknown): unknown;
  time(value: string | Date): string;
}

const opt = <K extends string, V>(key: K, value: V | null | undefined) =>
  (value === null || value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;

export function recordOf(
  task: TaskRow,
  attempts: AttemptRow[],
  responses: ResponseRow[],
  decode: Decode,
): TaskRecord {
  const types = decode.json(task.types) as string[];
  const time = (v: string | Date | null) => (v === null ? undefined : decode.time(v));
  return {
    id: task.id,
    type: task.type,
    types,
    state: task.state as TaskState,
    source: task.source as TaskRecord['source'],
    ...opt('idempotencyKey', task.idempotency_key),
    ...opt('workitem', task.workitem === null ? undefined : decode.json(task.workitem)),
    ...(task.workitem_truncated ? { workitemTruncated: true } : {}),
    ...opt('result', task.result === null ? undefined : decode.json(task.result)),
    ...(task.result_truncated ? { resultTruncated: true } : {}),
    ...opt('resultCap', task.result_cap),
    ...(task.run > 1 ? { run: task.run } : {}),
    attempts: attempts
      .map(
        (a): AttemptRecord => ({
          attempt: a.attempt,
          ...(a.run > 1 ? { run: a.run } : {}),
          ...opt('host', a.host),
          ...opt('pid', a.pid),
          ...opt('user', a.user),
          ...opt('startedAt', time(a.started_at)),
          ...opt('endedAt', time(a.ended_at)),
          ...opt('error', a.error),
          ...opt('errorCode', a.error_code),
          ...opt(
            'crashLog',
            a.crash_log === null ? undefined : (decode.json(a.crash_log) as string[]),
          ),
        }),
      )
      .sort(byRunAndAttempt),
    // In the order of the submission's types.
    responses: responses
      .map(
        (r): ResponseRecord => ({
          type: r.type,
          state: r.state as TaskState,
          ...opt('result', r.result === null ? undefined : decode.json(r.result)),
          ...(r.result_truncated ? { resultTruncated: true } : {}),
          ...opt('error', r.error),
          ...opt('errorCode', r.error_code),
          updatedAt: decode.time(r.updated_at),
        }),
      )
      .sort((a, b) => types.indexOf(a.type) - types.indexOf(b.type)),
    ...opt('nextAttemptAt', time(task.next_attempt_at)),
    ...opt('notBefore', time(task.not_before)),
    ...opt('expiresAt', time(task.expires_at)),
    createdAt: decode.time(task.created_at),
    updatedAt: decode.time(task.updated_at),
    ...opt('finishedAt', time(task.finished_at)),
  };
}

/** JSON text of a value, null for none (both dialects take JSON as text parameters). */
export const jsonText = (value: unknown): string | null =>
  value === undefined ? null : JSON.stringify(value);

/** A record's columns as named parameters (flags as 0/1: SQLite binds no booleans). */
export function taskParams(r: TaskRecord) {
  return {
    id: r.id,
    type: r.type,
    types: JSON.stringify(r.types),
    state: r.state,
    source: r.source,
    idempotency_key: r.idempotencyKey ?? null,
    workitem: jsonText(r.workitem),
    workitem_truncated: r.workitemTruncated ? 1 : 0,
    result: jsonText(r.result),
    result_truncated: r.resultTruncated ? 1 : 0,
    result_cap: r.resultCap ?? null,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
    finished_at: r.finishedAt ?? null,
    next_attempt_at: r.nextAttemptAt ?? null,
    run: r.run ?? 1,
    not_before: r.notBefore ?? null,
    expires_at: r.expiresAt ?? null,
  };
}

export function attemptParams(taskId: string, a: AttemptRecord) {
  return {
    task_id: taskId,
    run: a.run ?? 1,
    attempt: a.attempt,
    host: a.host ?? null,
    pid: a.pid ?? null,
    user: a.user ?? null,
    started_at: a.startedAt ?? null,
    ended_at: a.endedAt ?? null,
    error: a.error ?? null,
    error_code: a.errorCode ?? null,
    crash_log: jsonText(a.crashLog),
  };
}

/**
 * A response's row. It carries its task's `created_at` (it never changes) so that a fan-out is
 * listed by any of its types in creation order from one index (responses_type_created).
 */
export function responseParams(task: { id: string; createdAt: string }, r: ResponseRecord) {
  return {
    task_id: task.id,
    task_created_at: task.createdAt,
    type: r.type,
    state: r.state,
    result: jsonText(r.result),
    result_truncated: r.resultTruncated ? 1 : 0,
    error: r.error ?? null,
    error_code: r.errorCode ?? null,
    updated_at: r.updatedAt,
  };
}
