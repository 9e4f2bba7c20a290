import { EventEmitter } from 'node:events';
import type { TaskRecord, TaskState } from './store/types.js';

/** One task's move to a state, as the event stream sends it. */
export interface StateChange {
  taskId: string;
  type: string;
  types: string[];
  state: TaskState;
  at: string;
}

/**
 * The state changes this daemon made or heard, for the event stream (GET /v1/events) and the
 * submits waiting with `reply` (submit.ts waitForFinal, through `watch`): the submit and retry
 * routes report `queued`; the tracker reports each event it applied (src/api/track-changes.ts).
 * In-process only: with several API daemons on one store, each streams its own.
 */
export class StateChanges {
  readonly #emitter = new EventEmitter();

  constructor() {
    // One listener per open stream; how many streams is the HTTP server's business.
    this.#emitter.setMaxListeners(0);
  }

  /** Waiters for one task's changes (`watch`), by task id. */
  readonly #watchers = new Map<string, Set<(change: StateChange) => void>>();

  /** Whether any stream listens: a reporter may skip the work of building a change when not. */
  get listening(): boolean {
    return this.#emitter.listenerCount('change') > 0;
  }

  /**
   * Whether anyone wants a change of `taskId`: a stream (every task) or a waiter of that task.
   * The tracker reads the store to build a change only then (track-changes.ts).
   */
  wants(taskId: string): boolean {
    return this.listening || this.#watchers.has(taskId);
  }

  report(change: StateChange): void {
    this.#emitter.emit('change', change);
    for (const listener of this.#watchers.get(change.taskId) ?? []) listener(change);
  }

  /** Reports `task` as it is now (the record the store returned). */
  reportTask(task: TaskRecord): void {
    this.report({
      taskId: task.id,
      type: task.type,
      types: task.types,
      state: task.state,
      at: task.updatedAt,
    });
  }

  /**
   * Calls `listener` with every change of one task from now on (a submit waiting with `reply`);
   * returns the unsubscribe. Does not make `listening` true: other tasks' changes are not read.
   */
  watch(taskId: string, listener: (change: StateChange) => void): () => void {
    const set = this.#watchers.get(taskId) ?? new Set();
    set.add(listener);
    this.#watchers.set(taskId, set);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#watchers.get(taskId) === set) this.#watchers.delete(taskId);
    };
  }

  /** Calls `listener` with every change from now on; returns the unsubscribe. */
  subscribe(listener: (change: StateChange) => void): () => void {
    this.#emitter.on('change', listener);
    return () => this.#emitter.off('change', listener);
  }
}
