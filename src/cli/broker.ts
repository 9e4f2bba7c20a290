import type { ConfirmChannel } from 'amqplib';
import { AmqpConnection, type SetupFunction } from '../common/amqp/connection.js';
import type { Config } from '../common/config/types.js';
import type { Logger } from '../common/logger.js';

/** CLI commands give up on an unreachable broker quickly: a person is waiting. */
const CLI_CONNECT_RETRIES = 2;

/**
 * Connects for one command, runs `setup` on the channel (with the connection, to open side
 * channels on), and hands back the open connection.
 */
export async function connectForCommand(
  config: Config,
  log: Logger,
  name: string,
  setup: SetupFunction = async () => {},
): Promise<{ connection: AmqpConnection; channel: ConfirmChannel }> {
  const connection = new AmqpConnection(
    { ...config.amqp, connectRetries: Math.min(config.amqp.connectRetries, CLI_CONNECT_RETRIES) },
    { name, logger: log, setup },
  );
  await connection.start();
  const channel = connection.channel;
  if (!channel) throw new Error('connection closed during setup');
  return { connection, channel };
}
