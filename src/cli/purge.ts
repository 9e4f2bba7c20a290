import type { Config } from '../common/config/types.js';
import { TqError } from '../common/errors.js';
import { ExitStatus } from '../common/exit.js';
import type { Logger } from '../common/logger.js';
import { connectForCommand } from './broker.js';
import { confirmed, refuseUnconfirmed } from './confirm.js';
import { inspectQueue, type QueueLook } from './queue-state.js';
import { queueNaming, roleOf } from './queues/our-queues.js';

/**
 * `taskqueue purge QUEUE`: empties one queue of the system, after saying how many messages it
 * holds and a yes on the terminal (or `--yes`; without a terminal and without `--yes` it refuses
 * before connecting). A queue that is not ours is refused (TQ_ERR_CLI_NOT_OUR_QUEUE): on a shared
 * vhost a typo must not empty a neighbour's queue; `rabbitmqctl purge_queue` remains for that.
 * Messages a consumer holds unacked are not purged (the broker's rule): they come back if not
 * acked. Prints how many were purged.
 */
export async function purgeQueue(
  config: Config,
  log: Logger,
  options: { queue: string; yes: boolean },
  out: (line: string) => void,
): Promise<number> {
  const { queue } = options;
  // Results queues named by any group count; plugins are not looked for (a name is enough).
  // The cancels stream is not purged: a stream cannot be, and its cancels must stay honoured.
  const role = roleOf(
    queue,
    queueNaming(config, [], () => []),
  );
  if (role === undefined || role === 'cancels')
    throw new TqError(
      'TQ_ERR_CLI_NOT_OUR_QUEUE',
      `${queue} is not a queue of taskqueue (input, .invalid, worker_TYPE and its .dead and retry ` +
        'queues, the delay levels taskqueue.delay.NN, taskqueue.rate.TYPE.tokens, results, ' +
        'taskqueue.unroutable, taskqueue.tracker and its .invalid): refused',
      { details: { queue } },
    );
  refuseUnconfirmed('purge', options.yes);
  // Set in setup: `as` keeps TypeScript from narrowing it to its first value.
  let look = 'unknown' as QueueLook;
  const { connection, channel } = await connectForCommand(
    config,
    log,
    'taskqueue-purge',
    async (_channel, model) => {
      look = await inspectQueue(model, queue);
    },
  );
  try {
    if (look === 'missing')
      throw new TqError('TQ_ERR_CLI_NO_QUEUE', `queue ${queue} does not exist`, {
        details: { queue },
      });
    const state = look;
    if (typeof state === 'object') {
      const consumers = state.consumerCount > 0 ? `, ${state.consumerCount} consumer(s)` : '';
      out(`${queue}: ${state.messageCount} message(s) ready${consumers}`);
    }
    if (
      !(await confirmed(`purge ${queue}? Its ready messages are deleted for good`, options.yes))
    ) {
      out('nothing purged');
      return ExitStatus.FAILURE;
    }
    const { messageCount } = await channel.purgeQueue(queue);
    out(`purged ${messageCount} message(s) from ${queue}`);
    return ExitStatus.OK;
  } finally {
    await connection.close();
  }
}
