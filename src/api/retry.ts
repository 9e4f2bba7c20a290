import { TqError } from '../common/errors.js';
import { RETRYABLE_STATES, typesToRun } from './store/precedence.js';
import type { TaskRecord } from './store/types.js';
import { publishRun, type SubmitDeps, type SubmitRequest } from './submit.js';

/**
 * The retries this daemon is publishing now, by task id: a second retry of the same task while
 * the first publishes would see it `submitted` and publish it twice.
 */
const inFlight = new Set<string>();

/**
 * Runs a task that ended badly again under the same id (issue 28 item 4): the store starts its
 * next run (`TaskStore.retry`, atomically, from failed, poisoned, incomplete or expired), then
 * the stored workitem is published for each type to run (a fan-out's failed types only) with
 * the run in `x-taskqueue-run`, then the task is `queued`. The message is a new one: no crash
 * count or attempt header of the earlier run comes with it, so the run gets `max_attempts` and
 * `max_crashes` afresh (docs/api.md _Retry_).
 *
 * A run the broker did not confirm stays `submitted`; retrying it again publishes it again (same
 * run).
 *
 * @throws TqError TQ_ERR_API_TASK_NOT_FOUND, TQ_ERR_API_NOT_RETRYABLE, TQ_ERR_API_NO_WORKITEM
 *   (nothing changed), TQ_ERR_API_PUBLISH (the run started, state `submitted`)
 */
export async function retryTask(
  deps: SubmitDeps,
  id: string,
): Promise<{ record: TaskRecord; types: string[] }> {
  const now = deps.now ?? (() => new Date());
  const current = await deps.store.get(id);
  if (current === undefined) throw new TqError('TQ_ERR_API_TASK_NOT_FOUND', `no task ${id}`);
  // A retry whose publish was not confirmed: its run is started, only the publish is left.
  const unpublished = current.state === 'submitted' && (current.run ?? 1) > 1;
  if ((!unpublished && !RETRYABLE_STATES.includes(current.state)) || inFlight.has(id)) {
    throw notRetryable(current);
  }
  const workitem = publishable(current);
  inFlight.add(id);
  try {
    let record = current;
    if (!unpublished) {
      const moved = await deps.store.retry(id, now().toISOString());
      if (moved === undefined) throw new TqError('TQ_ERR_API_TASK_NOT_FOUND', `no task ${id}`);
      // Another API daemon on the same store retried it between the read and now.
      if (!moved.moved) throw notRetryable(moved.record);
      record = moved.record;
    }
    const types = typesToRun(record);
    return { record: await publishRun(deps, record, workitem, types), types };
  } finally {
    inFlight.delete(id);
  }
}

function notRetryable(record: TaskRecord): TqError {
  return new TqError(
    'TQ_ERR_API_NOT_RETRYABLE',
    `task ${record.id} is ${record.state}: only a ${RETRYABLE_STATES.join(', ')} task can be retried`,
    { details: { taskId: record.id, state: record.state } },
  );
}

/** The workitem as stored, when it is whole: what the first run was given. */
function publishable(record: TaskRecord): SubmitRequest['workitem'] & object {
  const w = record.workitem;
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (record.workitemTruncated || !isObject(w) || !isObject(w.fields)) {
    throw new TqError(
      'TQ_ERR_API_NO_WORKITEM',
      record.workitemTruncated
        ? `task ${record.id}: its workitem was stored cut at the cap; submit it again`
        : `task ${record.id}: no workitem stored to publish again; submit it again`,
      { details: { taskId: record.id } },
    );
  }
  return w as SubmitRequest['workitem'] & object;
}
