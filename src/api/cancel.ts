import type { ConfirmChannel } from 'amqplib';
import type { AmqpConnection } from '../common/amqp/connection.js';
import { ConfirmedPublisher } from '../common/amqp/publisher.js';
import { publishCancel } from '../common/cancel/feed.js';
import { TqError } from '../common/errors.js';

/** Publishes the cancel of one task to `taskqueue.cancels`; resolves once confirmed. */
export type PublishCancel = (cancel: { taskId: string; by: string }) => Promise<void>;

/**
 * Cancels go to the stream over the daemon's connection. A ConfirmedPublisher of its own per
 * channel: it only matches returns and confirms of its own publishes, so it sits beside the
 * task publisher's (publish.ts) on the same channel without either mistaking the other's.
 */
export function cancelPublisher(connection: AmqpConnection): PublishCancel {
  const publishers = new WeakMap<ConfirmChannel, ConfirmedPublisher>();
  return async (cancel) => {
    const channel = connection.channel;
    if (channel === undefined)
      throw new TqError('TQ_ERR_API_PUBLISH', 'not connected to the broker; try again', {
        details: { taskId: cancel.taskId },
      });
    let publisher = publishers.get(channel);
    if (publisher === undefined) {
      publisher = new ConfirmedPublisher(channel);
      publishers.set(channel, publisher);
    }
    try {
      await publishCancel(channel, publisher, cancel);
    } catch (err) {
      throw new TqError(
        'TQ_ERR_API_PUBLISH',
        `the broker did not take the cancel of task ${cancel.taskId}: ${(err as Error).message}`,
        { cause: err, details: { taskId: cancel.taskId } },
      );
    }
  };
}
