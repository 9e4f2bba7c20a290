import type { GetMessage } from 'amqplib';
import type { Config } from '../../common/config/types.js';
import { ExitStatus } from '../../common/exit.js';
import type { Logger } from '../../common/logger.js';
import { confirmed, refuseUnconfirmed } from '../confirm.js';
import { type DeadRequest, parkedQueue } from './args.js';
import { openParkedQueue } from './parked-queue.js';
import { idOf, notFoundStatus, wanted } from './requeue.js';
import { mustHoldAll, walkQueue } from './walk.js';

/**
 * `taskqueue dead drop`: deletes the chosen parked tasks after saying how many and which, and
 * after a yes on the terminal (or `--yes`; without a terminal and without `--yes` it refuses
 * before connecting). The chosen ones are held while the operator answers and acked only on yes:
 * exactly those counted go, never one that arrived meanwhile. The others go back in order.
 */
export async function dropParked(
  config: Config,
  log: Logger,
  request: DeadRequest,
  out: (line: string) => void,
): Promise<number> {
  if (!request.dryRun) refuseUnconfirmed('dead drop', request.yes);
  const outcome = await dropTasks(config, log, request, async (queue, ids) => {
    out(`${request.dryRun ? 'would drop' : 'to drop'}: ${ids.length} task(s) from ${queue}`);
    for (const id of ids) out(`  ${id}`);
    if (request.dryRun || ids.length === 0) return false;
    return confirmed(`drop these ${ids.length} task(s) for good?`, request.yes);
  });
  if (request.dryRun || outcome.ids.length === 0) return notFoundStatus(request, outcome.found);
  if (!outcome.dropped) {
    out('nothing dropped');
    return ExitStatus.FAILURE;
  }
  out(`dropped ${outcome.ids.length} task(s) from ${outcome.queue}`);
  return notFoundStatus(request, outcome.found);
}

/** What a drop did: also POST /v1/dead/:type/drop's answer (src/api/routes/dead.ts). */
export interface DropOutcome {
  queue: string;
  /** The tasks chosen, in queue order. */
  ids: string[];
  /** True: every one chosen was acked (gone); false: none was (not approved, or a dry run). */
  dropped: boolean;
  found: Set<string>;
}

/**
 * The walk of `dead drop`: takes the chosen tasks, asks `approve` with their ids while holding
 * them, and acks exactly those on yes. Nothing is acked on a dry run.
 */
export async function dropTasks(
  config: Config,
  log: Logger,
  request: Pick<DeadRequest, 'type' | 'ids' | 'limit' | 'dryRun'>,
  approve: (queue: string, ids: string[]) => Promise<boolean>,
): Promise<DropOutcome> {
  const queue = parkedQueue(request, config.dispatcher.queue);
  const { connection, channel } = await openParkedQueue(config, log, queue);
  const found = new Set<string>();
  const chosen: GetMessage[] = [];
  const holdAll = mustHoldAll(config.amqp.queueType);
  let dropped = false;
  try {
    await walkQueue(channel, queue, (message) => {
      if (chosen.length >= request.limit) return holdAll;
      if (!wanted(request, message, found)) return true;
      chosen.push(message);
      return holdAll || chosen.length < request.limit;
    });
    const ids = chosen.map(idOf);
    if ((await approve(queue, ids)) && !request.dryRun && chosen.length > 0) {
      for (const message of chosen) channel.ack(message);
      dropped = true;
    }
    return { queue, ids, dropped, found };
  } finally {
    // The acks go out before the close: the broker answers a channel close after them.
    await connection.close();
  }
}
