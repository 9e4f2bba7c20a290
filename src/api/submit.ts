import { randomUUID } from 'node:crypto';
import { TqError } from '../common/errors.js';
import {
  parseZonedTime,
  resolveSchedule,
  type Schedule,
  ScheduleProblem,
} from '../common/schedule.js';
import { isFinal } from '../common/task-states.js';
import { workerTypeProblem } from '../common/worker-type.js';
import type { PublishTask } from './publish.js';
import type { StateChanges } from './state-changes.js';
import { publishedState } from './store/precedence.js';
import type { TaskRecord, TaskStore } from './store/types.js';

/** POST /v1/tasks's body, as its schema (routes/schemas.ts) lets it through. */
export interface SubmitRequest {
  type?: string;
  types?: string[];
  fields?: Record<string, unknown>;
  workitem?: { fields: Record<string, unknown> } & Record<string, unknown>;
  idempotencyKey?: string;
  reply?: number;
  /** AMQP priority 0–255 (issue 30). */
  priority?: number;
  /** ISO 8601 with a zone: not started before (or give `delay`). */
  notBefore?: string;
  /** Seconds from now: not started before (or give `notBefore`). */
  delay?: number;
  /** ISO 8601 with a zone: not started after (or give `ttl`). */
  expiresAt?: string;
  /** Seconds after the task is due: not started after (or give `expiresAt`). */
  ttl?: number;
}

/**
 * The schedule a submit asks for, at `nowMs`: the same rules as `taskqueue submit`'s
 * (src/common/schedule.ts).
 *
 * @throws TqError TQ_ERR_DELAY_INVALID for a time that is not one, a delay out of range or a
 *   deadline not after the due time; TQ_ERR_API_INVALID_REQUEST for two fields that exclude
 *   each other or a priority out of range
 */
export function scheduleOf(request: SubmitRequest, nowMs: number): Schedule {
  const time = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const ms = parseZonedTime(text);
    if (ms === undefined) {
      throw new TqError(
        'TQ_ERR_DELAY_INVALID',
        `body/${name} ${JSON.stringify(text)} is not an ISO 8601 time with a zone (2026-12-07T14:30:00Z)`,
      );
    }
    return ms;
  };
  const seconds = (value: number | undefined) => (value === undefined ? undefined : value * 1000);
  const fields = {
    priority: request.priority,
    delayMs: seconds(request.delay),
    notBeforeMs: time('notBefore', request.notBefore),
    ttlMs: seconds(request.ttl),
    expiresAtMs: time('expiresAt', request.expiresAt),
  };
  try {
    return resolveSchedule(
      Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
      nowMs,
    );
  } catch (err) {
    if (!(err instanceof ScheduleProblem)) throw err;
    throw new TqError(
      err.delay ? 'TQ_ERR_DELAY_INVALID' : 'TQ_ERR_API_INVALID_REQUEST',
      `body: ${err.message}`,
    );
  }
}

/** What a submit checks beyond the schema; every check is made before anything is stored. */
export function checkSubmit(request: SubmitRequest): string[] {
  const invalid = (message: string) => new TqError('TQ_ERR_API_INVALID_REQUEST', message);
  if ((request.type === undefined) === (request.types === undefined)) {
    throw invalid('body must have one of type or types');
  }
  if (request.fields !== undefined && request.workitem !== undefined) {
    throw invalid('body must have fields or workitem, not both');
  }
  const types = request.types ?? [request.type!];
  for (const type of types) {
    const problem = workerTypeProblem(type);
    if (problem !== undefined) throw invalid(`type ${JSON.stringify(type)}: ${problem}`);
  }
  return types;
}

/** The message for one type: the workitem with `params.worker_type` set (SPEC §1). */
export function messageFor(workitem: SubmitRequest['workitem'] & object, type: string): Buffer {
  const fields = workitem.fields;
  const params =
    typeof fields.params === 'object' && fields.params !== null && !Array.isArray(fields.params)
      ? fields.params
      : {};
  return Buffer.from(
    JSON.stringify({
      ...workitem,
      fields: { ...fields, params: { ...params, worker_type: type } },
    }),
  );
}

export interface SubmitDeps {
  store: TaskStore;
  publish: PublishTask;
  now?: () => Date;
}

/**
 * Records the task, then publishes one message per type with confirm, then marks it queued: a
 * task is in the store before any worker can see it, so its id is never unknown. A submit with
 * an idempotency key already used returns the first task; when that one was recorded but never
 * confirmed published (`submitted`), it is published again under the same id.
 *
 * @throws TqError TQ_ERR_API_INVALID_REQUEST (nothing stored), TQ_ERR_API_PUBLISH (stored,
 *   state `submitted`)
 */
export async function submitTask(
  deps: SubmitDeps,
  request: SubmitRequest,
): Promise<{ record: TaskRecord; created: boolean }> {
  const types = checkSubmit(request);
  const workitem = request.workitem ?? { fields: request.fields ?? {} };
  const now = deps.now ?? (() => new Date());
  const at = now();
  const schedule = scheduleOf(request, at.getTime());
  // What the broker's side would refuse is said now, before anything is stored.
  const check = deps.publish.check;
  if (check) for (const type of types) check(type, messageFor(workitem, type).length);
  const { record, created } = await deps.store.submit({
    id: randomUUID(),
    types,
    workitem,
    ...(request.idempotencyKey === undefined ? {} : { idempotencyKey: request.idempotencyKey }),
    at: at.toISOString(),
    ...(schedule.notBefore === undefined ? {} : { notBefore: schedule.notBefore }),
    ...(schedule.expiresAt === undefined ? {} : { expiresAt: schedule.expiresAt }),
  });
  if (record.state !== 'submitted') return { record, created };
  // Published from what was stored: a repeat publishes the first submit's task (its times
  // too), not this one's.
  const stored = (record.workitem ?? workitem) as typeof workitem;
  const published: Schedule = {
    ...(schedule.priority === undefined ? {} : { priority: schedule.priority }),
    ...(record.notBefore === undefined ? {} : { notBefore: record.notBefore }),
    ...(record.expiresAt === undefined ? {} : { expiresAt: record.expiresAt }),
  };
  return { record: await publishRun(deps, record, stored, record.types, published), created };
}

/**
 * Publishes `workitem` once for each of `types` under the task's id (and run), each confirmed,
 * then marks the task `queued` (`delayed` when its not-before is to come): what a submit and a
 * retry both end with. A retry passes no schedule: a new run starts at once, with no deadline. A publish the broker
 * does not confirm throws, and the task stays `submitted`.
 */
export async function publishRun(
  deps: SubmitDeps,
  record: TaskRecord,
  workitem: SubmitRequest['workitem'] & object,
  types: string[],
  schedule: Schedule = {},
): Promise<TaskRecord> {
  const run = record.run ?? 1;
  for (const type of types) {
    await deps.publish({
      id: record.id,
      type,
      body: messageFor(workitem, type),
      ...(run > 1 ? { run } : {}),
      ...schedule,
    });
  }
  const at = (deps.now ?? (() => new Date()))().toISOString();
  // Delayed only while it waits: a repeat of a submit whose time has come is queued.
  const state = publishedState(schedule.notBefore, at);
  await deps.store.markQueued(record.id, at, state);
  return { ...record, state, updatedAt: at };
}

export interface WaitOptions {
  /**
   * Where the tracker reports what it applied: a change of this task wakes the wait at once.
   * Watching the task makes the tracker report its changes (`StateChanges.wants`,
   * src/api/track-changes.ts), and only its.
   */
  changes?: StateChanges;
  /**
   * The store is read this often besides: another API daemon sharing a PostgreSQL store may
   * have applied the final event, and this daemon's StateChanges never hears of it.
   */
  pollMs?: number;
}

/** The slow poll kept beside the changes (see WaitOptions.pollMs). */
export const REPLY_POLL_MS = 1000;

/**
 * Resolves with the task once it is final, or as it is after `seconds` (or on `signal`). The
 * store is read again on each change of the task this daemon hears of, and every `pollMs`.
 */
export function waitForFinal(
  store: TaskStore,
  record: TaskRecord,
  seconds: number,
  signal: AbortSignal,
  options: WaitOptions = {},
): Promise<TaskRecord> {
  const isDone = (task: TaskRecord) => isFinal(task.state);
  if (isDone(record) || seconds <= 0 || signal.aborted) return Promise.resolve(record);
  return new Promise((resolve, reject) => {
    let latest = record;
    let settled = false;
    // One read at a time; a change heard during a read asks for one more after it.
    let reading = false;
    let again = false;
    const stop = () => {
      settled = true;
      unsubscribe?.();
      clearInterval(poll);
      clearTimeout(deadline);
      signal.removeEventListener('abort', finish);
    };
    function finish(): void {
      if (settled) return;
      stop();
      resolve(latest);
    }
    const read = async (): Promise<void> => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          latest = (await store.get(record.id)) ?? latest;
        } while (again && !settled && !isDone(latest));
      } catch (err) {
        if (!settled) {
          stop();
          reject(err);
        }
        return;
      } finally {
        reading = false;
      }
      if (isDone(latest)) finish();
    };
    const unsubscribe = options.changes?.watch(record.id, () => void read());
    const poll = setInterval(() => void read(), options.pollMs ?? REPLY_POLL_MS);
    const deadline = setTimeout(finish, seconds * 1000);
    signal.addEventListener('abort', finish, { once: true });
    // The final state may have been applied before the subscription: look once now.
    void read();
  });
}

/**
 * The task a route answers with: as it is, or, when the request asked for `reply` seconds, once
 * final or when they are up. The wait ends early when the client goes away (`response` closes
 * before it was sent).
 */
export function replyWhenAsked(
  store: TaskStore,
  changes: StateChanges,
  record: TaskRecord,
  seconds: number | undefined,
  response: { once(event: 'close', listener: () => void): unknown },
): Promise<TaskRecord> {
  if (seconds === undefined || seconds <= 0) return Promise.resolve(record);
  const ac = new AbortController();
  response.once('close', () => ac.abort());
  return waitForFinal(store, record, seconds, ac.signal, { changes });
}
