import { once } from 'node:events';
import type { ConfirmChannel, Options } from 'amqplib';
import type { AmqpConnection } from '../common/amqp/connection.js';
import { ConfirmedPublisher } from '../common/amqp/publisher.js';
import { hasCode } from '../common/errors.js';

/** A lost connection is retried this often before the command fails. */
const PUBLISH_TRIES = 3;

/**
 * Publishes and resolves only on the broker's confirm. When the connection goes before the
 * confirm (a failover between cluster nodes, say), it waits for the reconnect and publishes
 * again, with the same message id: at least once, never reported done unconfirmed.
 */
export function publishWithRetry(
  connection: AmqpConnection,
  queue: string,
  content: Buffer,
  options: Options.Publish,
): Promise<void> {
  return withRetry(connection, (channel) =>
    new ConfirmedPublisher(channel).publish('', queue, content, options),
  );
}

/** Runs `publish` on the live channel, again on the next one when the channel closed first. */
export async function withRetry(
  connection: AmqpConnection,
  publish: (channel: ConfirmChannel) => Promise<void>,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const channel = connection.channel ?? (await reconnected(connection));
    try {
      await publish(channel);
      return;
    } catch (err) {
      if (!hasCode(err, 'TQ_ERR_AMQP_CHANNEL_CLOSED') || attempt >= PUBLISH_TRIES) throw err;
    }
  }
}

/** The next channel, or the error the connection gave up with. */
async function reconnected(connection: AmqpConnection): Promise<ConfirmChannel> {
  const ac = new AbortController();
  try {
    return await Promise.race([
      once(connection, 'connected', { signal: ac.signal }).then(([channel]) => channel),
      once(connection, 'fatal', { signal: ac.signal }).then(([err]) => Promise.reject(err)),
    ]);
  } finally {
    ac.abort();
  }
}
