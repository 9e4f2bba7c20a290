import { EventEmitter } from 'node:events';
import type { TaskState } from './store/types.js';

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
 * submits waiting with `reply` (submit.ts waitForFinal, a listener like a stream): the
 * submit route reports `queued`; the tracker reports each event it applied (src/api/track-changes.ts). In-process only: with several API daemons on one store, each streams its own.
 */
export class StateChanges {
  readonly #emitter = new EventEmitter();

  constructor() {
    // One listener per open stream; how many streams is the HTTP server's business.
    this.#emitter.setMaxListeners(0);
  }

  /** Whether any stream listens: a reporter may skip the work of building a change when not. */
  get listening(): boolean {
    return this.#emitter.listenerCount('change') > 0;
  }

  report(change: StateChange): void {
    this.#emitter.emit('change', change);
  }

  /** Calls `listener` with every change from now on; returns the unsubscribe. */
  subscribe(listener: (change: StateChange) => void): () => void {
    this.#emitter.on('change', listener);
    return () => this.#emitter.off('change', listener);
  }
}
