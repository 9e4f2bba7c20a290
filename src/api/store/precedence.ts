import { isFinal } from '../../common/task-states.js';
import { COPY_CAP_BYTES } from '../../common/tracking/limits.js';
import type {
  AttemptRecord,
  ResponseRecord,
  SubmittedTask,
  TaskEvent,
  TaskRecord,
  TaskState,
} from './types.js';

/**
 * The rules every TaskStore applies events by, as pure functions over a TaskRecord, so that the
 * memory store (test/support) and the SQL stores cannot drift apart: a SQL store loads the
 * record under a lock, runs `applyEvent` and writes back what changed.
 */

/** The state an event moves a task (or one fan-out response) to. */
export const STATE_OF: Record<TaskEvent['event'], TaskState> = {
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

/**
 * How far along a task not yet final is. `queued` and `delayed` share a rank: the dispatcher's
 * `received` says which of the two a task is in (an API task recorded `delayed` whose due time
 * had passed when the dispatcher read it is `queued`), and anything later moves either on.
 */
const RANK: Partial<Record<TaskState, number>> = {
  submitted: 0,
  queued: 1,
  delayed: 1,
  dispatched: 2,
  running: 3,
  retrying: 4,
};
const rank = (state: TaskState): number => RANK[state] ?? -1;

/**
 * The state an event moves a task to: STATE_OF, except a `received` whose not-before is later
 * than its time: the dispatcher put the task into the delay ladder, where it waits.
 */
export function stateOfEvent(event: TaskEvent): TaskState {
  if (event.event === 'received' && event.notBefore !== undefined) {
    const due = Date.parse(event.notBefore);
    if (!Number.isNaN(due) && due > Date.parse(event.at)) return 'delayed';
  }
  return STATE_OF[event.event];
}

/** The state a task submitted through the API is in once published (TaskStore.markQueued). */
export function publishedState(notBefore: string | undefined, at: string): 'queued' | 'delayed' {
  return notBefore !== undefined && Date.parse(notBefore) > Date.parse(at) ? 'delayed' : 'queued';
}

export { isFinal } from '../../common/task-states.js';

/**
 * A time as every store keeps it: `Date#toISOString` (UTC, milliseconds), so that SQLite's text
 * order is time order and the three stores hand back the same string. What does not parse is
 * kept as it is (validating events is the tracker's job; a store does not drop them).
 */
export function isoTime(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

/** Sizes past which a stored workitem or result is cut; undefined: kept whole. */
export interface StoreCaps {
  /** Bytes of the workitem's JSON. */
  workitemBytes?: number;
  /** Bytes of the result's JSON. */
  resultBytes?: number;
}

/**
 * A value as stored under a cap: whole when its JSON fits, else the first `cap` bytes of its JSON
 * as a string (valid JSON is not recoverable from a cut, and a reader must see it was cut).
 */
export function capped(
  value: unknown,
  cap: number | undefined,
): { value: unknown; truncated: boolean } {
  if (cap === undefined || value === undefined) return { value, truncated: false };
  const json = JSON.stringify(value);
  if (Buffer.byteLength(json) <= cap) return { value, truncated: false };
  // Cut by bytes, then drop a partial UTF-8 sequence at the end (toString replaces it with U+FFFD).
  const cut = Buffer.from(json)
    .subarray(0, cap)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return { value: cut, truncated: true };
}

/** The record of a task submitted through the API, before it is published. */
export function submittedRecord(task: SubmittedTask, caps: StoreCaps = {}): TaskRecord {
  task = { ...task, at: isoTime(task.at) };
  const workitem = capped(task.workitem, caps.workitemBytes);
  return {
    id: task.id,
    type: task.types[0]!,
    types: [...task.types],
    state: 'submitted',
    source: 'api',
    ...(task.idempotencyKey === undefined ? {} : { idempotencyKey: task.idempotencyKey }),
    ...(task.notBefore === undefined ? {} : { notBefore: isoTime(task.notBefore) }),
    ...(task.expiresAt === undefined ? {} : { expiresAt: isoTime(task.expiresAt) }),
    workitem: workitem.value,
    ...(workitem.truncated ? { workitemTruncated: true } : {}),
    attempts: [],
    // One response per type only for a fan-out: a single-type task's outcome is the task's own.
    responses:
      task.types.length > 1
        ? task.types.map((type) => ({ type, state: 'submitted' as const, updatedAt: task.at }))
        : [],
    createdAt: task.at,
    updatedAt: task.at,
  };
}

/** The record a task gets when an event is the first the store hears of it (source `queue`). */
export function firstSeenRecord(event: TaskEvent): TaskRecord {
  return {
    id: event.taskId,
    type: event.type,
    types: [event.type],
    state: 'queued',
    source: 'queue',
    ...runOf(event.run),
    attempts: [],
    responses: [],
    createdAt: event.at,
    updatedAt: event.at,
  };
}

/**
 * Whether a task (or response) in state `from` moves to `to`: finals always win over
 * intermediates and are never replaced; intermediates only move forward, except `retrying`,
 * which may follow `running` and precede the next `running`.
 */
export function moves(from: TaskState, to: TaskState): boolean {
  if (isFinal(from)) return false;
  if (isFinal(to) || to === 'retrying') return from !== to || to === 'retrying';
  // The next attempt starting after a retry (an old attempt's late `started` may pass too:
  // intermediate states are best-effort, finals are what must be right).
  if (from === 'retrying' && to === 'running') return true;
  return rank(to) >= rank(from) && from !== to;
}

/**
 * Applies `event` to a copy of `current` (undefined: first heard of) and says whether anything
 * changed. A fan-out task's event moves the response of the event's type; the task is final
 * when every response is (`fanOutOutcome`), each response with its own outcome.
 */
export function applyEvent(
  current: TaskRecord | undefined,
  given: TaskEvent,
  caps: StoreCaps = {},
): { record: TaskRecord; changed: boolean } {
  const event: TaskEvent = {
    ...given,
    at: isoTime(given.at),
    ...(given.nextAttemptAt === undefined ? {} : { nextAttemptAt: isoTime(given.nextAttemptAt) }),
  };
  // An event of an earlier run (a late duplicate of its final, say) must not end this one.
  if (current && (event.run ?? 1) < (current.run ?? 1)) return { record: current, changed: false };
  const record =
    current === undefined
      ? firstSeenRecord(event)
      : (event.run ?? 1) > (current.run ?? 1)
        ? runHeardOf(current, event)
        : structuredClone(current);
  const before = JSON.stringify(record);
  if (event.workitem !== undefined && record.workitem === undefined) {
    const workitem = capped(event.workitem, caps.workitemBytes);
    record.workitem = workitem.value;
    // Cut by the store's cap, or already by the dispatcher's (the event says so).
    if (workitem.truncated || event.truncated) record.workitemTruncated = true;
  }
  if (event.event === 'received') {
    // What the dispatcher read from the task's headers; an API task has them from its submit.
    if (event.notBefore !== undefined) record.notBefore ??= isoTime(event.notBefore);
    if (event.expiresAt !== undefined) record.expiresAt ??= isoTime(event.expiresAt);
  }
  if (event.attempt !== undefined) applyAttempt(record, event);
  const next = stateOfEvent(event);
  const response = record.responses.find((r) => r.type === event.type);
  if (record.types.length > 1 && response) {
    if (moves(response.state, next)) {
      response.state = next;
      response.updatedAt = event.at;
      if (isFinal(next)) {
        if (event.result !== undefined) setResult(record, response, event, caps);
        // The task's attempts are shared by its types; a response says its own failure.
        if (next !== 'succeeded' && event.error !== undefined) response.error = event.error;
        if (next !== 'succeeded' && event.errorCode !== undefined)
          response.errorCode = event.errorCode;
      }
    }
    settleFanOut(record, event);
  } else if (moves(record.state, next)) {
    record.state = next;
    // The next attempt's time means something only while the task waits for it.
    if (event.event === 'retrying') record.nextAttemptAt = event.nextAttemptAt;
    else delete record.nextAttemptAt;
    if (isFinal(next)) {
      record.finishedAt = event.at;
      if (event.result !== undefined) setResult(record, record, event, caps);
    }
  }
  // A task first heard of is a change even when the event leaves its first state as it is.
  const changed = current === undefined || JSON.stringify(record) !== before;
  // A late event (an old `started` filling in a host) does not move the time back.
  if (changed && event.at > record.updatedAt) record.updatedAt = event.at;
  return { record, changed };
}

function applyAttempt(record: TaskRecord, event: TaskEvent): void {
  const run = event.run ?? 1;
  let attempt = record.attempts.find((a) => (a.run ?? 1) === run && a.attempt === event.attempt);
  if (!attempt) {
    attempt = { attempt: event.attempt!, ...runOf(run) };
    record.attempts.push(attempt);
    record.attempts.sort(byRunAndAttempt);
  }
  if (event.event === 'started') {
    if (event.host !== undefined) attempt.host = event.host;
    if (event.pid !== undefined) attempt.pid = event.pid;
    if (event.user !== undefined) attempt.user = event.user;
    attempt.startedAt ??= event.at;
  } else if (event.event !== 'received') {
    attempt.endedAt ??= event.at;
    if (event.error !== undefined) attempt.error = event.error;
    if (event.errorCode !== undefined) attempt.errorCode = event.errorCode;
    if (event.crashLog !== undefined) attempt.crashLog = event.crashLog;
  }
}

/**
 * Sets a capped result on the task or on one response; the task's record says the cap: the
 * store's own, or the events' (COPY_CAP_BYTES) when the child already cut the copy it sent.
 */
function setResult(
  record: TaskRecord,
  target: TaskRecord | ResponseRecord,
  event: TaskEvent,
  caps: StoreCaps,
): void {
  const cut = capped(event.result, caps.resultBytes);
  target.result = cut.value;
  if (cut.truncated) {
    target.resultTruncated = true;
    record.resultCap = caps.resultBytes;
  } else if (event.truncated) {
    target.resultTruncated = true;
    record.resultCap = COPY_CAP_BYTES;
  }
}

/**
 * A fan-out's state once every type answered (issue 28 item 5, as tasker does it): `succeeded`
 * when all succeeded, `incomplete` when some did and some did not, `failed` when none did (a
 * client asking for failed tasks finds it; the responses say how each type ended).
 */
export function fanOutOutcome(states: readonly TaskState[]): TaskState {
  const succeeded = states.filter((s) => s === 'succeeded').length;
  if (succeeded === states.length) return 'succeeded';
  return succeeded > 0 ? 'incomplete' : 'failed';
}

function settleFanOut(record: TaskRecord, event: TaskEvent): void {
  if (isFinal(record.state)) return;
  const states = record.responses.map((r) => r.state);
  if (states.every(isFinal)) {
    record.state = fanOutOutcome(states);
    record.finishedAt = event.at;
    return;
  }
  const furthest = states.filter((s) => !isFinal(s)).reduce((a, b) => (rank(b) > rank(a) ? b : a));
  if (moves(record.state, furthest)) record.state = furthest;
}

/** `run` as a record keeps it: absent for the first. */
function runOf(run: number | undefined): { run?: number } {
  return run !== undefined && run > 1 ? { run } : {};
}

/** Attempts in the order they were made: by run, then attempt. */
export function byRunAndAttempt(a: AttemptRecord, b: AttemptRecord): number {
  return (a.run ?? 1) - (b.run ?? 1) || a.attempt - b.attempt;
}

export { RETRYABLE_STATES } from '../../common/task-states.js';

/**
 * The record of a task's next run, from a record in one of RETRYABLE_STATES: `run` + 1, state
 * `submitted` until its messages are confirmed published, the last run's result and end
 * cleared. A fan-out's types that succeeded keep their response; the others start again (and
 * are the only ones published). Attempts stay, each with its run.
 */
export function retriedRecord(current: TaskRecord, at: string): TaskRecord {
  const record = structuredClone(current);
  const when = isoTime(at);
  record.run = (current.run ?? 1) + 1;
  record.state = 'submitted';
  for (const key of ['result', 'resultTruncated', 'finishedAt', 'nextAttemptAt'] as const) {
    delete record[key];
  }
  for (const response of record.responses) {
    if (response.state === 'succeeded') continue;
    response.state = 'submitted';
    response.updatedAt = when;
    for (const key of ['result', 'resultTruncated', 'error', 'errorCode'] as const) {
      delete response[key];
    }
  }
  if (!record.responses.some((r) => r.resultTruncated)) delete record.resultCap;
  record.updatedAt = when;
  return record;
}

/**
 * The record of a run the store first hears of from its events, not from a retry it recorded:
 * a dead letter requeued (`taskqueue dead requeue`, POST /v1/dead/…/requeue) carries the next
 * run in RUN_HEADER. The task starts again from `queued`, the last run's end and result
 * cleared; a fan-out starts again only the event's type (a parked message is of one type).
 */
function runHeardOf(current: TaskRecord, event: TaskEvent): TaskRecord {
  const record = structuredClone(current);
  record.run = event.run;
  record.state = 'queued';
  for (const key of ['result', 'resultTruncated', 'finishedAt', 'nextAttemptAt'] as const) {
    delete record[key];
  }
  const response = record.responses.find((r) => r.type === event.type);
  if (response !== undefined && response.state !== 'succeeded') {
    response.state = 'queued';
    response.updatedAt = event.at;
    for (const key of ['result', 'resultTruncated', 'error', 'errorCode'] as const) {
      delete response[key];
    }
  }
  if (!record.responses.some((r) => r.resultTruncated)) delete record.resultCap;
  return record;
}

/** The types a retried record's run publishes: a fan-out's that did not succeed, else its type. */
export function typesToRun(record: TaskRecord): string[] {
  return record.responses.length > 0
    ? record.responses.filter((r) => r.state !== 'succeeded').map((r) => r.type)
    : [record.type];
}
