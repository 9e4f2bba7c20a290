/**
 * The pool's supervisor as an explicit state × event table (in the spirit of s6): every change
 * of a child's state goes through `transition()`, and every transition is one log line.
 *
 * A group *wants* N active children (runit's wanted state); `starting` and `running` children
 * are active, `retiring` and `stopping` ones are on their way out and no longer count, so the
 * group starts their successors before they leave.
 */

export type ChildState = 'starting' | 'running' | 'retiring' | 'stopping' | 'exited';

export type ChildEvent =
  /** The child loaded its plugin, ran setup and consumes. */
  | 'ready'
  /** The child reached max_tasks_per_child (it says so one task early) or max_memory_per_child. */
  | 'recycle'
  /** The pool asks the child to drain and exit (stop, reload, fewer workers, a ready successor). */
  | 'stop'
  /** The process ended. */
  | 'exit';

/**
 * What the group does when a child's process ends, by the state it ended in. `killed`: it was
 * starting and a signal the pool did not send ended it (an operator, the OOM killer): not the
 * plugin failing to start.
 */
export type ExitMeaning = 'crash' | 'startup-failure' | 'killed' | 'planned';

const TABLE: Record<ChildState, Partial<Record<ChildEvent, ChildState>>> = {
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
