import { AmqpConnection } from '../../common/amqp/connection.js';
import type { AmqpConfig } from '../../common/config/types.js';
import type { Logger } from '../../common/logger.js';
import {
  HEARTBEAT_BINDING,
  HEARTBEAT_EXCHANGE,
  parseHeartbeat,
} from '../../common/tracking/heartbeat.js';
import type { PoolRegistry } from './pool-registry.js';

/**
 * Hears every pool's heartbeat on a queue of this daemon's own: exclusive and auto-deleted
 * (gone with the connection, so nothing piles up while no API daemon runs), bound to `pool.#`
 * on the events exchange, consumed without acks (a lost heartbeat is replaced by the next).
 * A restarted daemon knows every live pool within one interval. Its own connection: the
 * publishing one stays free of deliveries.
 */
export function listenForHeartbeats(
  amqp: AmqpConfig,
  registry: PoolRegistry,
  log: Logger,
): AmqpConnection {
  let unreadable = 0;
  return new AmqpConnection(amqp, {
    name: 'taskqueue-api-heartbeats',
    logger: log,
    setup: async (channel) => {
      await channel.assertExchange(HEARTBEAT_EXCHANGE, 'topic', { durable: true });
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      await channel.bindQueue(queue, HEARTBEAT_EXCHANGE, HEARTBEAT_BINDING);
      await channel.consume(
        queue,
        (message) => {
          if (message === null) return;
          const heartbeat = parseHeartbeat(message.content);
          if (heartbeat !== undefined) registry.record(heartbeat);
          // Logged the first time and then every 1000th: one bad publisher must not flood the log.
          else if (unreadable++ % 1000 === 0) {
            log.warn(
              { routingKey: message.fields.routingKey, unreadable },
              'unreadable pool heartbeat ignored',
            );
          }
        },
        { noAck: true },
      );
    },
  });
}
