import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';
import { brokerVersionOf } from '../amqp/broker-features.js';
import { declareDelayLadder } from '../amqp/delay.js';
import { DELAY_UNROUTED_EXCHANGE } from '../amqp/delay-names.js';
import { declareDirectPath, TYPES_EXCHANGE } from '../amqp/direct-path.js';
import { ConfirmedPublisher } from '../amqp/publisher.js';
import { declareTracking } from '../amqp/queues.js';
import type { Config } from '../config/types.js';
import { TqError } from '../errors.js';
import { Admission } from './admission.js';
import { type ForwardSession, forwardTask } from './forward.js';
import { timingOf } from './schedule.js';
import { DispatcherEvents } from './task-events.js';
import { TypePriorities } from './type-priorities.js';

/** One channel's means: made by `setup`, again after each reconnect. */
interface Session extends ForwardSession {
  channel: ConfirmChannel;
  /** The delay ladder, declared on this channel at the first delayed task. */
  ladder: Promise<void> | undefined;
}

/** A task a submitter publishes: its body, its properties, the type it is for. */
export interface DirectTask {
  type: string;
  content: Buffer;
  options: Options.Publish;
}

/**
 * Publishes tasks for a known type straight to `worker_<type>` through TYPES_EXCHANGE
 * (docs/direct-path.md), doing to each what the dispatcher would have done (forward.ts, with
 * the dispatcher's own code): refused when the dispatcher would park it for its size or type,
 * its priority set as the type's queue takes it on this broker, a delayed one straight into the
 * delay ladder, and with tracking the `received` event. A type no queue is bound for goes to
 * the input queue through the alternate exchange, and the dispatcher routes it; with no input
 * queue either, the publish is returned (mandatory) and rejects with TQ_ERR_AMQP_UNROUTABLE.
 */
export class DirectSubmitter {
  readonly #config: Config;
  readonly #admission: Admission;
  readonly #events: DispatcherEvents | undefined;
  readonly #sessions = new WeakMap<ConfirmChannel, Session>();

  constructor(config: Config) {
    this.#config = config;
    this.#admission = new Admission(config.dispatcher);
    if (config.tracking.enabled) this.#events = new DispatcherEvents();
  }

  /** Part of every (re)connect's setup: the topology, idempotently, and the channel's session. */
  async setup(channel: ConfirmChannel, model: ChannelModel): Promise<void> {
    const { queueType } = this.#config.amqp;
    // As the dispatcher's: a max_priority this broker cannot honour is refused here too.
    const priorities = new TypePriorities(this.#config, brokerVersionOf(model));
    await declareDirectPath(channel, this.#config.dispatcher.queue, queueType);
    if (this.#events) await declareTracking(channel, queueType);
    this.#sessions.set(channel, {
      channel,
      publisher: new ConfirmedPublisher(channel),
      priorities,
      events: this.#events,
      ladder: undefined,
    });
  }

  /**
   * Throws what the dispatcher would park the task for: TQ_ERR_TASK_TOO_LARGE,
   * TQ_ERR_TASK_TYPE_NOT_ALLOWED. Nothing is published.
   */
  check(type: string, bytes: number): void {
    const refusal = this.#admission.sizeRefusal(bytes) ?? this.#admission.typeRefusal(type);
    if (refusal) throw new TqError(refusal.code, refusal.reason, { details: { type, bytes } });
  }

  /**
   * Publishes `task` on `channel` (set up by `setup`); resolves once the broker confirmed it
   * (and its event). Throws as `check`, TQ_ERR_DELAY_INVALID for a time the dispatcher would
   * park, and the publisher's errors (TQ_ERR_AMQP_UNROUTABLE, TQ_ERR_AMQP_CHANNEL_CLOSED, …).
   */
  async publish(channel: ConfirmChannel, task: DirectTask): Promise<void> {
    const session = this.#sessions.get(channel);
    if (!session) throw new TqError('TQ_ERR_AMQP_CHANNEL_CLOSED', 'channel not set up');
    const { type, content, options } = task;
    this.check(type, content.length);
    const timing = timingOf(options);
    if (timing?.ok === false) throw new TqError(timing.code, timing.reason);
    if (timing?.dueMs !== undefined) {
      session.ladder ??= this.#declareLadder(session);
      await session.ladder;
    }
    await forwardTask(session, {
      type,
      content,
      received: { headers: options.headers, contentType: options.contentType },
      options: { ...options },
      timing,
      exchange: TYPES_EXCHANGE,
      routingKey: type,
    });
  }

  /** The ladder, and its way back to the input queue for a task whose queue is gone. */
  #declareLadder(session: Session): Promise<void> {
    const { channel } = session;
    const declaring = (async () => {
      await declareDelayLadder(channel, this.#config.amqp.queueType);
      await channel.bindQueue(this.#config.dispatcher.queue, DELAY_UNROUTED_EXCHANGE, '');
    })();
    declaring.catch(() => {
      if (session.ladder === declaring) session.ladder = undefined;
    });
    return declaring;
  }
}
