import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Message } from 'amqplib';
import {
  declare,
  rateTokenQueue,
  rateTokenQueueDeclaration,
  workerQueue,
} from '../../common/amqp/queues.js';
import type { GroupConfig, QueueType } from '../../common/config/types.js';
import type { Logger } from '../../common/logger.js';
import { RateMinter } from './rate-minter.js';
import type { ChannelTools } from './task.js';

/**
 * Settles the token a task was taken with, once the task is done: acked (spent), or, for a task
 * handed back untouched, requeued for another child.
 */
export type TokenRelease = (requeue: boolean) => void;

/** What the gate asks of the worker runtime. */
export interface GateHooks {
  /** Whether this child still takes tasks: a token that comes when it does not is given back. */
  taking: () => boolean;
  /**
   * A task got with a token, on the task channel (`tools.channel`); its `consumerTag` is the
   * token consumer's, on `consumerChannel`. Called synchronously when the task arrives, so that
   * the channel's deliveries are registered in the order of their tags (acks.ts).
   */
  take: (task: ConsumeMessage, consumerChannel: Channel, release: TokenRelease) => void;
  /** The broker cancelled the token consumer (its queue was deleted). */
  cancelled: () => void;
}

/**
 * The gate of a type with `rate_limit` (docs/rate-limits.md): instead of consuming
 * `worker_<type>`, the child consumes `taskqueue.rate.<type>.tokens` with the group's prefetch,
 * and for each token takes one task from `worker_<type>` by basic.get. Tasks therefore wait in
 * the broker while the type is capped, in their priority order, and no child holds one it may not
 * start. A token is held while its task runs, so the prefetch still bounds the tasks in hand; an
 * empty get spends the token at once.
 *
 * Tokens come on a channel of their own, not the task channel: a get-ok resolves its promise a
 * microtask after the frame, so a token delivered in the same socket read would be registered
 * before a task of a lower delivery tag, and the task channel's `multiple` acks must see its tags
 * in order. The got tasks alone share the task channel, and gets on one channel are answered in
 * order. The same channel mints (rate-minter.ts).
 */
export class RateGate {
  readonly minter: RateMinter;
  #type: string;
  #queueType: QueueType;
  #prefetch: number;
  #log: Logger;
  /** The token channel of the current connection. */
  #channel: Channel | undefined;
  #closing = false;
  /** Gets on their way: a retiring or stopping child waits for them before it counts its tasks. */
  #fetching = new Set<Promise<void>>();

  constructor(group: GroupConfig, queueType: QueueType, log: Logger) {
    if (group.rateLimit === undefined) throw new Error('worker child: a gate without rate_limit');
    this.#type = group.type;
    this.#queueType = queueType;
    this.#prefetch = group.prefetch;
    this.#log = log;
    this.minter = new RateMinter(group.type, group.rateLimit, queueType, log);
  }

  /**
   * Opens the token channel of a new connection. If it closes on its own later, `main` is closed
   * too, so that the connection starts over: a child whose tokens stopped would sit idle.
   */
  async open(model: ChannelModel, main: ConfirmChannel): Promise<void> {
    this.minter.stop();
    const channel = await model.createChannel();
    channel.on('error', () => {});
    this.#channel = channel;
    channel.once('close', () => {
      if (this.#channel !== channel) return;
      this.minter.stop();
      if (this.#closing) return;
      this.#log.warn('rate limit: token channel closed; reconnecting');
      main.close().catch(() => {});
    });
    await declare(channel, rateTokenQueueDeclaration(this.#type, this.#queueType));
    await channel.prefetch(this.#prefetch);
  }

  /** Consumes tokens and starts minting; resolves with the token consumer. */
  async consume(tools: ChannelTools, hooks: GateHooks): Promise<{ channel: Channel; tag: string }> {
    const channel = this.#channel;
    if (!channel) throw new Error('worker child: the rate gate was not opened');
    // Again: after the broker cancelled the consumer, the queue may be gone.
    await declare(channel, rateTokenQueueDeclaration(this.#type, this.#queueType));
    const { consumerTag } = await channel.consume(rateTokenQueue(this.#type), (token) => {
      if (!token) {
        this.minter.stop();
        hooks.cancelled();
        return;
      }
      if (!hooks.taking()) {
        settle(channel, token, true);
        return;
      }
      const fetching = this.#fetch(channel, token, tools, hooks);
      this.#fetching.add(fetching);
      void fetching.finally(() => this.#fetching.delete(fetching));
    });
    await this.minter.start(channel);
    return { channel, tag: consumerTag };
  }

  /** Resolves once no get is on its way (call after the token consumer's cancel). */
  async drained(): Promise<void> {
    while (this.#fetching.size > 0) await Promise.all(this.#fetching);
  }

  /** Stops minting: the child takes no more tasks. */
  stopMinting(): void {
    this.minter.stop();
  }

  /** Stops minting for good; the token channel closes with the connection. */
  close(): void {
    this.#closing = true;
    this.minter.stop();
  }

  async #fetch(
    channel: Channel,
    token: ConsumeMessage,
    tools: ChannelTools,
    hooks: GateHooks,
  ): Promise<void> {
    let got: Awaited<ReturnType<ConfirmChannel['get']>>;
    try {
      got = await tools.channel.get(workerQueue(this.#type), { noAck: false });
    } catch {
      // The task channel closed: the connection starts over, and the token goes back with it.
      return;
    }
    if (got === false) {
      settle(channel, token, false);
      this.minter.empty();
      return;
    }
    this.minter.found();
    const task: ConsumeMessage = {
      content: got.content,
      properties: got.properties,
      fields: {
        deliveryTag: got.fields.deliveryTag,
        redelivered: got.fields.redelivered,
        exchange: got.fields.exchange,
        routingKey: got.fields.routingKey,
        consumerTag: token.fields.consumerTag,
      },
    };
    hooks.take(task, channel, (requeue) => settle(channel, token, requeue));
  }
}

/** Acks (spent) or requeues a token; a closed channel has given it back already. */
function settle(channel: Channel, token: Message, requeue: boolean): void {
  try {
    if (requeue) channel.nack(token, false, true);
    else channel.ack(token);
  } catch {
    // Closed: the broker took the token back (and drops it if it expired meanwhile).
  }
}
