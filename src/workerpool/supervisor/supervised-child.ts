import type { HeldTasks } from '../held-tasks.js';
import type { ChildMessage, ChildSpec, Verdict } from '../ipc.js';

/** How a child broke the protocol with the pool: it is killed for it (`broken`). */
export interface ChildBreach {
  code: 'TQ_ERR_CHILD_MESSAGE' | 'TQ_ERR_CHILD_HELD_TASKS';
  reason: string;
}

/** How a child's process ended (`exit`). */
export interface ChildExit {
  code: number | null;
  signal: string | null;
  ready: boolean;
  /** Why the pool signalled it, if it did. */
  killedByPool: string | undefined;
}

/** What a supervised child tells its group. */
export interface SupervisedChildEvents {
  /** The child loaded its plugin, ran setup and consumes. */
  ready: () => void;
  /** Any other message from the child, already checked. */
  message: (message: ChildMessage) => void;
  /** The child broke the protocol and is being killed for it. */
  broken: (breach: ChildBreach) => void;
  /** The process ended; its held tasks are still readable during this event. */
  exit: (status: ChildExit) => void;
}

/**
 * A child as its GroupSupervisor sees it: ChildHandle (a real process) in the pool, a fake in
 * unit tests. Created by the group's `makeChild`, which does not start it; `start()` does.
 */
export interface SupervisedChild {
  readonly pid: number | undefined;
  on<E extends keyof SupervisedChildEvents>(event: E, listener: SupervisedChildEvents[E]): unknown;
  /** Starts the process; the child then says `ready` or ends. */
  start(): void;
  /** Asks the child to drain; after `deadlineMs` SIGTERM, then SIGKILL. Resolves on exit. */
  stop(deadlineMs: number): Promise<void>;
  /** Kills at once. */
  kill(reason?: string): void;
  /** Answers the child's `ask` about a redelivered task. */
  answer(id: number, verdict: Verdict | undefined): void;
  /** The tasks it holds now (or held when it ended), and how many it settled. */
  heldTasks(): HeldTasks;
  /** A cheap check that it has not grown its held-tasks file past its slots. */
  checkHeldTasks(): void;
}

/** Creates a child for a group's spec, not started. */
export type MakeChild = (spec: ChildSpec) => SupervisedChild;
