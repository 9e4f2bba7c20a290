import type {
  ChannelModel,
  ConfirmChannel,
  ConsumeMessage,
  MessageProperties,
  Options,
} from 'amqplib';
import { AckBatcher } from '../common/amqp/acks.js';
import { AmqpConnection } from '../common/amqp/connection.js';
import { forwardProperties } from '../common/amqp/properties.js';
import { ConfirmedPublisher } from '../common/amqp/publisher.js';
import { declareQueue, invalidQueue, workerQueue } from '../common/amqp/queues.js';
import { requeueAfterPause } from '../common/amqp/requeue.js';
import type { Config } from '../common/config/types.js';
import type { Logger } from '../common/logger.js';
import { routeTask } from './route.js';
import { WorkerQueues } from './worker-queues.js';

/** The header that says why a message was parked on the invalid queue. */
export const ERROR_HEADER = 'x-taskqueue-error';

/** How long a message whose forward the broker refused waits before it is requeued. */

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
  /** The current channel's acks: flushed before the connection is closed on purpose. */
  #acks: AckBatcher | undefined;
  #stopping = false;
  #debug: boolean;

  constructor(config: Config, log: Logger) {
    this.#config = config;
    this.#log = log;
    this.#debug = log.isLevelEnabled('debug');
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
    this.#acks?.flush();
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
    const acks = new AckBatcher(channel);
    this.#acks = acks;
    const { consumerTag } = await channel.consume(queue, (message) => {
      if (!message) return;
      acks.received(message);
      void this.#handle(acks, publisher, workerQueues, message);
    });
    this.#consumerTag = consumerTag;
    this.#log.info({ queue, prefetch }, 'dispatcher consuming');
  }

  async #handle(
    acks: AckBatcher,
    publisher: ConfirmedPublisher,
    workerQueues: WorkerQueues,
    message: ConsumeMessage,
  ): Promise<void> {
    const { properties, content } = message;
    const ids = { messageId: properties.messageId, correlationId: properties.correlationId };
    const route = routeTask(content, properties.contentType);
    // Counted here, not by a `finally` on the returned promise: that costs two more promises and
    // a microtask a task.
    this.#inFlight++;
    try {
      if (route.ok) {
        const target = workerQueue(route.type);
        if (!workerQueues.declared(route.type)) await workerQueues.ensure(route.type);
        await publisher.publish('', target, content, forwardProperties(properties));
        // Guarded: building the fields for every task costs at full speed, even when dropped.
        if (this.#debug)
          this.#log.debug({ ...ids, type: route.type, queue: target }, 'task forwarded');
      } else {
        await this.#park(publisher, message, route.reason);
      }
      acks.ack(message);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'TQ_ERR_AMQP_CHANNEL_CLOSED') return; // the broker redelivers it
      if (code === 'TQ_ERR_AMQP_ENCODE') {
        // Its properties cannot be written again as they came (another client's header value
        // out of range): as it is, it cannot be forwarded, ever.
        await this.#parkUnencodable(acks, publisher, message, (err as Error).message);
        return;
      }
      // Refused or unroutable (the queue was deleted meanwhile): declare again and retry later,
      // after a pause, so that a broker refusing everything is not asked again in a hot loop.
      if (route.ok) workerQueues.forget(route.type);
      this.#log.error({ ...ids, err: (err as Error).message, code }, 'forward failed; requeued');
      await requeueAfterPause(acks, message);
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0) this.#idle?.();
    }
  }

  /** Parks an invalid task on `<input>.invalid`, unchanged, with the reason in a header. */
  async #park(publisher: ConfirmedPublisher, message: ConsumeMessage, reason: string) {
    const target = invalidQueue(this.#config.dispatcher.queue);
    const { properties, content } = message;
    await publisher.publish(
      '',
      target,
      content,
      forwardProperties(properties, { [ERROR_HEADER]: reason }),
    );
    this.#logParked(properties, reason, target);
  }

  #logParked(properties: MessageProperties, reason: string, queue: string): void {
    this.#log.warn({ messageId: properties.messageId, reason, queue }, 'invalid task parked');
  }

  /**
   * Parks a task whose properties cannot be encoded: the body and content type unchanged, the
   * headers replaced by the reason (they are what cannot be written). Failing that, the message
   * is requeued after a pause, like any refused forward.
   */
  async #parkUnencodable(
    acks: AckBatcher,
    publisher: ConfirmedPublisher,
    message: ConsumeMessage,
    why: string,
  ): Promise<void> {
    const { properties, content } = message;
    const reason = `properties cannot be forwarded as they are: ${why}`.slice(0, 1000);
    const target = invalidQueue(this.#config.dispatcher.queue);
    const bare: Options.Publish = { persistent: true, headers: { [ERROR_HEADER]: reason } };
    for (const key of ['contentType', 'messageId', 'correlationId'] as const) {
      if (properties[key] !== undefined) bare[key] = properties[key];
    }
    try {
      await publisher.publish('', target, content, bare);
      acks.ack(message);
      this.#logParked(properties, reason, target);
    } catch (err) {
      if ((err as { code?: string }).code === 'TQ_ERR_AMQP_CHANNEL_CLOSED') return;
      this.#log.error({ err: (err as Error).message }, 'parking failed; requeued');
      await requeueAfterPause(acks, message);
    }
  }
}
