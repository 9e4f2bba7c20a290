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
  const queue = parkedQueue(request, config.dispatcher.queue);
  const { connection, channel } = await openParkedQueue(config, log, queue);
  const found = new Set<string>();
  const chosen: GetMessage[] = [];
  const holdAll = mustHoldAll(config.amqp.queueType);
  try {
    await walkQueue(channel, queue, (message) => {
      if (chosen.length >= request.limit) return holdAll;
      if (!wanted(request, message, found)) return true;
      chosen.push(message);
      return holdAll || chosen.length < request.limit;
    });
    out(`${request.dryRun ? 'would drop' : 'to drop'}: ${chosen.length} task(s) from ${queue}`);
    for (const message of chosen) out(`  ${idOf(message)}`);
    if (request.dryRun || chosen.length === 0) return notFoundStatus(request, found);
    if (!(await confirmed(`drop these ${chosen.length} task(s) for good?`, request.yes))) {
      out('nothing dropped');
      return ExitStatus.FAILURE;
    }
    for (const message of chosen) channel.ack(message);
  } finally {
    // The acks go out before the close: the broker answers a channel close after them.
    await connection.close();
  }
  out(`dropped ${chosen.length} task(s) from ${queue}`);
  return notFoundStatus(request, found);
}
