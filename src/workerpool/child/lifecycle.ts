/**
 * Where a worker child's consumer is in its life, as one field (BullMQ's `ChildStatus`), not as
 * flags that could contradict each other.
 *
 * - `starting`: connecting and setting up; no consumer yet.
 * - `consuming`: taking tasks.
 * - `retiring`: takes no more (max_tasks_per_child, max_memory_per_child, a hung task); its
 *   consumer's cancel is on its way and the tasks in hand finish.
 * - `retired`: nothing left in hand and the cancel confirmed; the child asks to be stopped.
 * - `stopping`: told to stop; drains for the grace, hands back the rest, tears the plugin down.
 * - `stopped`: disconnected.
 */
export type ChildState = 'starting' | 'consuming' | 'retiring' | 'retired' | 'stopping' | 'stopped';

/**
 * Every legal move. `starting → retiring`: the first delivery may arrive before `consume()` has
 * resolved, and with max_tasks_per_child 1 it is also the last. Any state but `stopped` may be
 * told to stop; nothing leaves `stopped`.
 */
const NEXT: Readonly<Record<ChildState, readonly ChildState[]>> = {
  starting: ['consuming', 'retiring', 'stopping'],
  consuming: ['retiring', 'stopping'],
  retiring: ['retired', 'stopping'],
  retired: ['stopping'],
  stopping: ['stopped'],
  stopped: [],
};

/** Whether `from → to` is a legal move. */
export function canMove(from: ChildState, to: ChildState): boolean {
  return NEXT[from].includes(to);
}

/** A child's state with the only way to change it: `to`, which refuses an illegal move. */
export class Lifecycle {
  #state: ChildState;

  constructor(initial: ChildState = 'starting') {
    this.#state = initial;
  }

  get state(): ChildState {
    return this.#state;
  }

  /** Still taking tasks (or about to): neither retiring nor stopping. */
  get taking(): boolean {
    return this.#state === 'starting' || this.#state === 'consuming';
  }

  /** Told to stop (and perhaps stopped already). */
  get stopping(): boolean {
    return this.#state === 'stopping' || this.#state === 'stopped';
  }

  /** Moves to `next`; throws on a move the table does not allow (a bug in the caller). */
  to(next: ChildState): void {
    if (!canMove(this.#state, next))
      throw new Error(`worker child: illegal lifecycle move ${this.#state} → ${next}`);
    this.#state = next;
  }
}
