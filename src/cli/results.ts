import type { Message } from 'amqplib';
import type { Config } from '../common/config/types.js';
import { TqError } from '../common/errors.js';
import { ExitStatus } from '../common/exit.js';
import type { Logger } from '../common/logger.js';
import { connectForCommand } from './broker.js';
import { inspectQueue } from './queue-state.js';

export interface ResultsOptions {
  queue: string;
  follow: boolean;
  /** Print each result with its headers too. */
  withProperties: boolean;
  /** Print without taking: every result stays on the queue, in its order. */
  peek: boolean;
}

/**
 * One line of output: one JSON object, always with the task id (the result's correlation id,
 * null when the publisher set none) and the result (parsed JSON, or the body as a string).
 */
export function resultLine(message: Message, withProperties: boolean): string {
  const body = message.content.toString('utf8');
  return JSON.stringify({
    correlation_id: message.properties.correlationId ?? null,
    ...(withProperties ? { headers: message.properties.headers ?? {} } : {}),
    result: safeParse(body),
  });
}

/**
 * Prints (and takes) the results waiting on the results queue, one JSON document a line; with
 * `follow`, keeps printing new ones until interrupted. Each is acked only after it was written.
 * With `peek`, none is acked: they are all held until the channel closes, and the broker then
 * puts them back where they were. The queue is looked at, never declared: reading does not
 * create a queue a typo named.
 */
export async function printResults(
  config: Config,
  log: Logger,
  options: ResultsOptions,
): Promise<number> {
  let exists = false;
  const { connection, channel } = await connectForCommand(
    config,
    log,
    'taskqueue-results',
    async (_channel, model) => {
      // Unknown (the broker would not say) counts as there: reading it gives the real error.
      exists = (await inspectQueue(model, options.queue)) !== 'missing';
    },
  );
  const print = (message: Message) => {
    process.stdout.write(`${resultLine(message, options.withProperties)}\n`);
    if (!options.peek) channel.ack(message);
  };
  try {
    if (!exists) {
      throw new TqError(
        'TQ_ERR_CLI_NO_QUEUE',
        `queue ${options.queue} does not exist (the pool's children declare their results queue ` +
          'when they start; check --queue and [type] results_routing_key)',
        { details: { queue: options.queue } },
      );
    }
    if (!options.follow) {
      for (;;) {
        const message = await channel.get(options.queue, { noAck: false });
        if (message === false) return ExitStatus.OK;
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
    return ExitStatus.OK;
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
