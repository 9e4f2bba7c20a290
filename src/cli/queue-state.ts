import type { ChannelModel } from 'amqplib';
import { ReplyCode, replyCodeOf } from '../common/amqp/reply-codes.js';

/** What a passive declare says about a queue. */
export interface QueueState {
  messageCount: number;
  consumerCount: number;
}

/**
 * A queue's state; `missing` when the broker says it does not exist; `unknown` when the broker
 * would not say (no permission, say): a look is advice and must not fail the command.
 */
export type QueueLook = QueueState | 'missing' | 'unknown';

/**
 * Looks at a queue without creating it: a passive declare, on a channel of its own because the
 * broker closes the channel a missing queue was checked on.
 */
export async function inspectQueue(model: ChannelModel, name: string): Promise<QueueLook> {
  try {
    const channel = await model.createChannel();
    channel.on('error', () => {});
    const { messageCount, consumerCount } = await channel.checkQueue(name);
    await channel.close();
    return { messageCount, consumerCount };
  } catch (err) {
    // A passive declare of a queue that does not exist closes the channel with NOT_FOUND.
    return replyCodeOf(err) === ReplyCode.NOT_FOUND ? 'missing' : 'unknown';
  }
}
