import type { Channel, GetMessage } from 'amqplib';

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
