import type { Logger } from '../common/logger.js';
import type { StateChanges } from './state-changes.js';
import type { TaskEvent, TaskStore } from './store/types.js';

/**
 * What the tracker tells the event stream after each event the store applied: the task as the
 * store now has it (a fan-out task's state is not the event's), read only while a stream
 * listens or a `reply` waits for that task. Never throws: a stream's trouble must not hand an applied event back.
 */
export function reportApplied(
  store: TaskStore,
  changes: StateChanges,
  log: Logger,
): (event: TaskEvent) => void {
  return (event) => {
    if (!changes.wants(event.taskId)) return;
    store.get(event.taskId).then(
      (task) => {
        if (task !== undefined) changes.reportTask(task);
      },
      (err: Error) => log.warn({ err: err.message, taskId: event.taskId }, 'change not streamed'),
    );
  };
}
