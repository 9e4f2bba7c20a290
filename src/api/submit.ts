import { randomUUID } from 'node:crypto';
import { TqError } from '../common/errors.js';
import { workerTypeProblem } from '../common/worker-type.js';
import type { PublishTask } from './publish.js';
import { FINAL_STATES, type TaskRecord, type TaskStore } from './store/types.js';

/** POST /v1/tasks's body, as its schema (routes/schemas.ts) lets it through. */
export interface SubmitRequest {
  type?: string;
  types?: string[];
  fields?: Record<string, unknown>;
  workitem?: { fields: Record<string, unknown> } & Record<string, unknown>;
  idempotencyKey?: string;
  reply?: number;
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
  const { record, created } = await deps.store.submit({
    id: randomUUID(),
    types,
    workitem,
    ...(request.idempotencyKey === undefined ? {} : { idempotencyKey: request.idempotencyKey }),
    at: now().toISOString(),
  });
  if (record.state !== 'submitted') return { record, created };
  // Published from what was stored: a repeat publishes the first submit's task, not this one's.
  const stored = (record.workitem ?? workitem) as typeof workitem;
  for (const type of record.types) {
    await deps.publish({ id: record.id, type, body: messageFor(stored, type) });
  }
  const at = now().toISOString();
  await deps.store.markQueued(record.id, at);
  return { record: { ...record, state: 'queued', updatedAt: at }, created };
}

/** Resolves with the task once it is final, or as it is after `seconds` (or on `signal`). */
export async function waitForFinal(
  store: TaskStore,
  record: TaskRecord,
  seconds: number,
  signal: AbortSignal,
  pollMs = 100,
): Promise<TaskRecord> {
  const deadline = Date.now() + seconds * 1000;
  let latest = record;
  while (!FINAL_STATES.includes(latest.state) && Date.now() < deadline && !signal.aborted) {
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(pollMs, Math.max(0, deadline - Date.now()))),
    );
    latest = (await store.get(record.id)) ?? latest;
  }
  return latest;
}
