import type { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { AmqpConnection } from '../common/amqp/connection.js';
import { forwardProperties } from '../common/amqp/properties.js';
import { ConfirmedPublisher } from '../common/amqp/publisher.js';
import { declareQueue, invalidQueue, workerQueue } from '../common/amqp/queues.js';
import type { Config } from '../common/config/types.js';
import type { Logger } from '../common/logger.js';
import { routeTask } from './route.js';
import { WorkerQueues } from './worker-queues.js';

/** The header that says why a message was parked on the invalid queue. */
export const ERROR_HEADER = 'x-taskqueue-error';

/**
 * Reads every task from the input queue and forwards it, byte for byte, to `worker_<type>`;
 * parks what it cannot route on `<input>.invalid`. An input message is acked only after the
 * broker confirmed where it went, so a crash at any point leaves it on the input queue.
 */
export class Dispatcher {
  #config: Config;
  #log: Logger;
  #connection: AmqpConnection;
  #inFlight = 0;
  #idle: (() => void) | undefined;
  #consumerTag: string | undefined;
  #stopping = false;

  constructor(config: Config, log: Logger) {
    this.#config = config;
    this.#log = log;
    this.#connection = new AmqpConnection(config.amqp, {
      name: 'taskqueue-dispatcher',
      logger: log,
      setup: (channel, model) => this.#setup(channel, model),
    });
  }

  /** Emits `fatal` when the broker stays unreachable after a loss. */
  get connection(): AmqpConnection {
    return this.#connection;
  }

  /** Connects, declares the queues and starts consuming. */
  async start(): Promise<void> {
    await this.#connection.start();
  }

  /** Stops consuming, waits for the forwards in flight to be confirmed and acked, disconnects. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const channel = this.#connection.channel;
    if (channel && this.#consumerTag) await channel.cancel(this.#consumerTag).catch(() => {});
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    await this.#connection.close();
  }

  async #setup(channel: ConfirmChannel, model: ChannelModel): Promise<void> {
    const { queue, prefetch } = this.#config.dispatcher;
    const queueType = this.#config.amqp.queueType;
    await declareQueue(channel, queue, queueType);
    await declareQueue(channel, invalidQueue(queue), queueType);
    await channel.prefetch(prefetch);
    const publisher = new ConfirmedPublisher(channel);
    const workerQueues = new WorkerQueues(model, queueType, this.#log);
    if (this.#stopping) return;
    const { consumerTag } = await channel.consume(queue, (message) => {
      if (message) this.#track(this.#handle(channel, publisher, workerQueues, message));
    });
    this.#consumerTag = consumerTag;
    this.#log.info({ queue, prefetch }, 'dispatcher consuming');
  }

  async #handle(
    channel: ConfirmChannel,
    publisher: ConfirmedPublisher,
    workerQueues: WorkerQueues,
    message: ConsumeMessage,
  ): Promise<void> {
    const { properties, content } = message;
    const ids = { messageId: properties.messageId, correlationId: properties.correlationId };
    const route = routeTask(content, properties.contentType);
    try {
      if (route.ok) {
        const target = workerQueue(route.type);
        await workerQueues.ensure(route.type);
        await publisher.publish('', target, content, forwardProperties(properties));
        this.#log.debug({ ...ids, type: route.type, queue: target }, 'task forwarded');
      } else {
        const target = invalidQueue(this.#config.dispatcher.queue);
        await publisher.publish(
          '',
          target,
          content,
          forwardProperties(properties, { [ERROR_HEADER]: route.reason }),
        );
        this.#log.warn({ ...ids, reason: route.reason, queue: target }, 'invalid task parked');
      }
      channel.ack(message);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'TQ_ERR_AMQP_CHANNEL_CLOSED') return; // the broker redelivers it
      // Refused or unroutable (the queue was deleted meanwhile): declare again and retry later.
      if (route.ok) workerQueues.forget(route.type);
      this.#log.error({ ...ids, err: (err as Error).message, code }, 'forward failed; requeued');
      try {
        channel.nack(message, false, true);
      } catch {
        // The channel closed in between: the broker redelivers it anyway.
      }
    }
  }

  #track(work: Promise<void>): void {
    this.#inFlight++;
    void work.finally(() => {
      this.#inFlight--;
      if (this.#inFlight === 0) this.#idle?.();
    });
  }
}
