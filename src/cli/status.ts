import type { Config } from '../common/config/types.js';
import { ExitStatus } from '../common/exit.js';
import { askStatus, type StatusAnswer } from './status-client.js';
import { renderStatus } from './status-render.js';

export interface StatusOptions {
  json: boolean;
  /** --socket: ask these instead of the config's two. */
  sockets: string[] | undefined;
}

/** The sockets to ask: --socket's, else the config's (the pool's first), those not off. */
export function statusSockets(config: Config | undefined, sockets: string[] | undefined): string[] {
  if (sockets !== undefined && sockets.length > 0) return sockets;
  if (!config) return [];
  return [config.workerpool.statusSocket, config.dispatcher.statusSocket].filter(
    (path): path is string => path !== undefined,
  );
}

/**
 * The exit status of `taskqueue status`: 77 when a socket refused this user, 69 when a daemon
 * could not be asked, 1 when a group of the pool is failed, paused or refused, else 0.
 */
export function statusExit(answers: StatusAnswer[]): number {
  const errors = answers.flatMap((answer) => ('error' in answer ? [answer.error.code] : []));
  if (errors.includes('TQ_ERR_STATUS_DENIED')) return ExitStatus.NOPERM;
  if (errors.length > 0) return ExitStatus.UNAVAILABLE;
  const failed = answers.some((answer) => {
    if (!('status' in answer) || answer.status.daemon !== 'workerpool') return false;
    const totals = answer.status.totals as { failedGroups?: number; refusedGroups?: number };
    return (totals?.failedGroups ?? 0) + (totals?.refusedGroups ?? 0) > 0;
  });
  return failed ? ExitStatus.FAILURE : ExitStatus.OK;
}

/**
 * `taskqueue status [--json] [--socket PATH]…`: asks the pool and the dispatcher over their
 * status sockets (docs/status.md) and prints their state, as a table or (`--json`) as
 * `{"daemons": [{"socket", "status"} | {"socket", "error": {"code", "message"}}]}`. Errors go to
 * `err` as well, one line each with the code.
 */
export async function showStatus(
  config: Config | undefined,
  options: StatusOptions,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  const sockets = statusSockets(config, options.sockets);
  if (sockets.length === 0) {
    err(
      'taskqueue: no status socket: both status_socket keys are empty; name one with --socket [TQ_ERR_STATUS_UNREACHABLE]',
    );
    return ExitStatus.UNAVAILABLE;
  }
  const answers = await Promise.all(sockets.map((socket) => askStatus(socket)));
  if (options.json) out(JSON.stringify({ daemons: answers }, null, 2));
  else for (const line of renderStatus(answers)) out(line);
  for (const answer of answers)
    if ('error' in answer) err(`taskqueue: ${answer.error.message} [${answer.error.code}]`);
  return statusExit(answers);
}
