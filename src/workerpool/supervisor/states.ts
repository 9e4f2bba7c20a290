/**
 * The pool's supervisor as explicit state × event tables (in the spirit of s6): one for each
 * child, one for each group. Every change of a child's state goes through `transition()`, and
 * every transition is one log line (group.ts `#apply`); a group's state changes only through
 * `groupTransition()` (group.ts `#enter`).
 *
 * A group *wants* N active children (runit's wanted state); `starting` and `running` children
 * are active, `retiring` and `stopping` ones are on their way out and no longer count, so the
 * group starts their successors before they leave.
 */

/** `none`: created, not started yet; the state every child begins in (CHILD_INITIAL). */
export type ChildState = 'none' | 'starting' | 'running' | 'retiring' | 'stopping' | 'exited';

export type ChildEvent =
  /** The pool starts the child's process. */
  | 'start'
  /** The child loaded its plugin, ran setup and consumes. */
  | 'ready'
  /** The child reached max_tasks_per_child (it says so one task early) or max_memory_per_child. */
  | 'recycle'
  /** The pool asks the child to drain and exit (stop, reload, fewer workers, a ready successor). */
  | 'stop'
  /** The process ended. */
  | 'exit';

/** The state a child is created in, before its process starts. */
export const CHILD_INITIAL: ChildState = 'none';

/**
 * What the group does when a child's process ends, by the state it ended in. `killed`: it was
 * starting and a signal the pool did not send ended it (an operator, the OOM killer): not the
 * plugin failing to start.
 */
export type ExitMeaning = 'crash' | 'startup-failure' | 'killed' | 'planned';

const TABLE: Record<ChildState, Partial<Record<ChildEvent, ChildState>>> = {
  none: { start: 'starting' },
  starting: { ready: 'running', stop: 'stopping', exit: 'exited' },
  running: { recycle: 'retiring', stop: 'stopping', exit: 'exited' },
  retiring: { stop: 'stopping', exit: 'exited' },
  stopping: { exit: 'exited' },
  exited: {},
};

/** The next state, or undefined when the event means nothing in this state (it is ignored). */
export function transition(from: ChildState, event: ChildEvent): ChildState | undefined {
  return TABLE[from][event];
}

/** True for the states that count towards a group's wanted number of children. */
export function isActive(state: ChildState): boolean {
  return state === 'starting' || state === 'running';
}

/**
 * Why a process ended, judged by the state it was in: an exit while starting or running was not
 * asked for (a crash, counted towards the restart intensity); one while retiring or stopping was.
 * `killedFromOutside`: it ended by SIGKILL or SIGTERM that the pool did not send.
 */
export function exitMeaning(stateBefore: ChildState, killedFromOutside = false): ExitMeaning {
  if (stateBefore === 'starting') return killedFromOutside ? 'killed' : 'startup-failure';
  if (stateBefore === 'running') return 'crash';
  return 'planned';
}

/**
 * A group's own state. `idle`: created, not started. `serving`: keeps its wanted children
 * active (it starts and stops children to match). `delaying`: a restart is due when its timer
 * fires; nothing is started before. `failed`: its restart intensity tripped; nothing is started
 * until its pause ends or a reload retries it. `stopping`: draining for good.
 */
export type GroupState = 'idle' | 'serving' | 'delaying' | 'failed' | 'stopping';

export type GroupEvent =
  /** The pool starts the group. */
  | 'start'
  /** A child ended unasked: its replacement waits for the restart timer. */
  | 'delay'
  /** The restart timer fired. */
  | 'delay-over'
  /** Too many restarts within the period: the group pauses (GROUP FAILED / group paused). */
  | 'trip'
  /** The pause ended, or a reload asked to try again now. */
  | 'retry'
  /** The pool stops the group (stop, or a reload that changed or removed it). */
  | 'stop';

/** The state a group is created in. */
export const GROUP_INITIAL: GroupState = 'idle';

const GROUP_TABLE: Record<GroupState, Partial<Record<GroupEvent, GroupState>>> = {
  idle: { start: 'serving', stop: 'stopping' },
  serving: { delay: 'delaying', trip: 'failed', stop: 'stopping' },
  delaying: { 'delay-over': 'serving', trip: 'failed', stop: 'stopping' },
  failed: { retry: 'serving', stop: 'stopping' },
  stopping: {},
};

/** A group's next state, or undefined when the event means nothing in this state. */
export function groupTransition(from: GroupState, event: GroupEvent): GroupState | undefined {
  return GROUP_TABLE[from][event];
}
