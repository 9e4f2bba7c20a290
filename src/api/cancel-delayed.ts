import type { TaskRecord, TaskStore } from './store/types.js';

/**
 * A delayed task is cancelled in the store at once (issue 30): it waits in the broker's delay
 * ladder, where nothing can take it out, so no child would say `cancelled` before its due time
 * (an hour, a week). The cancel published to `taskqueue.cancels` (kept as long as the longest
 * delay) makes the child skip it when it comes due; its late `cancelled` then changes nothing.
 *
 * Only while its due time is further than this: a task due sooner may already be with a child
 * whose `started` the store has not heard yet, and that child's own final must be the one kept.
 */
export const CANCEL_AT_ONCE_MARGIN_MS = 5_000;

/** The error a delayed task cancelled at once is recorded with (as the child's, code and all). */
export const CANCELLED_DELAYED_ERROR =
  'task cancelled while delayed (TQ_ERR_TASK_CANCELLED): not run';

/**
 * Records `cancelled` for a task that is `delayed` with its not-before more than
 * CANCEL_AT_ONCE_MARGIN_MS ahead (each of a fan-out's types); returns the task as it is then.
 * Any other task is returned as it was: its child says when the cancel took.
 */
export async function cancelDelayedAtOnce(
  store: TaskStore,
  task: TaskRecord,
  now: Date,
): Promise<TaskRecord> {
  const due = task.notBefore === undefined ? Number.NaN : Date.parse(task.notBefore);
  if (task.state !== 'delayed' || !(due - now.getTime() > CANCEL_AT_ONCE_MARGIN_MS)) return task;
  const types = task.responses.length > 0 ? task.responses.map((r) => r.type) : [task.type];
  await store.applyBatch(
    types.map((type) => ({
      event: 'cancelled' as const,
      taskId: task.id,
      type,
      at: now.toISOString(),
      ...(task.run === undefined ? {} : { run: task.run }),
      error: CANCELLED_DELAYED_ERROR,
      errorCode: 'TQ_ERR_TASK_CANCELLED',
    })),
  );
  return (await store.get(task.id)) ?? task;
}
