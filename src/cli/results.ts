import type { Message } from 'amqplib';
import { declareQueue } from '../common/amqp/queues.js';
import type { Config } from '../common/config/types.js';
import type { Logger } from '../common/logger.js';
import { connectForCommand } from './broker.js';

export interface ResultsOptions {
  queue: string;
  follow: boolean;
  /** Print each result with its properties, not just its body. */
  withProperties: boolean;
}

/**
 * Prints (and takes) the results waiting on the results queue, one JSON document a line; with
 * `follow`, keeps printing new ones until interrupted. Each is acked only after it was written.
 */
export async function printResults(
  config: Config,
  log: Logger,
  options: ResultsOptions,
): Promise<number> {
  const { connection, channel } = await connectForCommand(config, log, 'taskqueue-results', (ch) =>
    declareQueue(ch, options.queue, config.amqp.queueType),
  );
  const print = (message: Message) => {
    const body = message.content.toString('utf8');
    const line = options.withProperties
      ? JSON.stringify({
          correlation_id: message.properties.correlationId,
          headers: message.properties.headers,
          result: safeParse(body),
        })
      : body;
    process.stdout.write(`${line}\n`);
    channel.ack(message);
  };
  try {
    if (!options.follow) {
      for (;;) {
        const message = await channel.get(options.queue, { noAck: false });
        if (message === false) return 0;
        print(message);
      }
    }
    await channel.prefetch(100);
    await channel.consume(options.queue, (message) => message && print(message));
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      connection.once('disconnected', resolve);
    });
    return 0;
  } finally {
    await connection.close();
  }
}

function safeParse(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}
