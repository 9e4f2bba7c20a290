import type { ExitMeaning } from './states.js';
import type { ChildExit } from './supervised-child.js';

/**
 * Why a child the group replaces ended, one of a fixed set (a label of
 * taskqueue_child_restarts_total): `crash` it died while running; `startup_failure` it ended
 * before it was ready (its plugin's load or setup failed, or it was not ready in time); `killed`
 * a SIGKILL or SIGTERM the pool did not send (an operator, the OOM killer); `stuck` the pool
 * killed it past its task's timeout; `protocol` the pool killed it for breaking the protocol.
 */
export const RESTART_CAUSES = ['crash', 'startup_failure', 'killed', 'stuck', 'protocol'] as const;

export type RestartCause = (typeof RESTART_CAUSES)[number];

/** The cause of an unplanned exit, from what the group knows of it. */
export function restartCause(
  meaning: Exclude<ExitMeaning, 'planned'>,
  status: ChildExit,
  fromOutside: boolean,
  overdue: boolean,
): RestartCause {
  if (overdue) return 'stuck';
  if (status.killedByPool?.startsWith('TQ_ERR_CHILD_')) return 'protocol';
  if (fromOutside) return 'killed';
  return meaning === 'crash' ? 'crash' : 'startup_failure';
}
