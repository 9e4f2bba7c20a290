import type { ConfirmChannel } from 'amqplib';
import type { AmqpConnection } from '../../common/amqp/connection.js';
import { declareQueue } from '../../common/amqp/queues.js';
import type { Config } from '../../common/config/types.js';
import { TqError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { connectForCommand } from '../broker.js';
import { inspectQueue, type QueueLook } from '../queue-state.js';

/** A connection to work on one queue of parked tasks, and how many were there when it opened. */
export interface ParkedQueue {
  connection: AmqpConnection;
  channel: ConfirmChannel;
  /** Ready messages when the command started (the broker's count), or undefined if unknown. */
  count: number | undefined;
}

/**
 * Connects and looks at `queue` without creating it: a missing one is TQ_ERR_CLI_NO_QUEUE (exit
 * 69), as for `results`: nothing was ever parked there, or TYPE is misspelt. With `input`, the
 * input queue is declared too (requeue publishes there, and a publish to no queue is lost).
 */
export async function openParkedQueue(
  config: Config,
  log: Logger,
  queue: string,
  input?: string,
): Promise<ParkedQueue> {
  // Set in setup: `as` keeps TypeScript from narrowing it to its first value.
  let look = 'unknown' as QueueLook;
  const { connection, channel } = await connectForCommand(
    config,
    log,
    'taskqueue-dead',
    async (ch, model) => {
      look = await inspectQueue(model, queue);
      if (input !== undefined) await declareQueue(ch, input, config.amqp.queueType);
    },
  );
  if (look === 'missing') {
    await connection.close();
    throw new TqError(
      'TQ_ERR_CLI_NO_QUEUE',
      `queue ${queue} does not exist: nothing was ever parked there (check TYPE; the pool ` +
        'declares worker_TYPE.dead when it parks a task of TYPE, the dispatcher its .invalid queue when it starts)',
      { details: { queue } },
    );
  }
  const count = typeof look === 'object' ? look.messageCount : undefined;
  return { connection, channel, count };
}
