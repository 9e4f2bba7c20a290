import type { Channel, GetMessage } from 'amqplib';
import type { QueueType } from '../../common/config/types.js';

/**
 * Takes the messages of `queue` one at a time with basic.get, without acking: each stays held by
 * `channel` until it is acked (then it is gone) or the channel closes (then the broker puts it
 * back where it was, in order). Nothing is removed by reading. Ends when the queue has nothing
 * more to give or `visit` returns false.
 */
export async function walkQueue(
  channel: Channel,
  queue: string,
  visit: (message: GetMessage) => boolean | Promise<boolean>,
): Promise<void> {
  for (;;) {
    const message = await channel.get(queue, { noAck: false });
    if (message === false) return;
    if (!(await visit(message))) return;
  }
}

/**
 * Whether a command that is done before the end of the queue (`--limit`) must still take the
 * rest, unacked: a quorum queue puts the messages a closing channel returns behind those it never
 * delivered (RabbitMQ 3.10, measured), so stopping early would move the ones looked at to the
 * back; when every message is held, all come back in their order. A classic queue puts each back
 * in its place.
 */
export function mustHoldAll(queueType: QueueType): boolean {
  return queueType === 'quorum';
}
