import type {
  ChannelModel,
  ConfirmChannel,
  ConsumeMessage,
  MessageProperties,
  Options,
} from 'amqplib';
import { AckBatcher } from '../common/amqp/acks.js';
import { brokerVersionOf } from '../common/amqp/broker-features.js';
import { AmqpConnection } from '../common/amqp/connection.js';
import { declareDelayLadder } from '../common/amqp/delay.js';
import { DELAY_UNROUTED_EXCHANGE } from '../common/amqp/delay-names.js';
import { declareDirectPath } from '../common/amqp/direct-path.js';
import { forwardProperties } from '../common/amqp/properties.js';
import { ConfirmedPublisher } from '../common/amqp/publisher.js';
import { declareQueue, declareTracking, invalidQueue, workerQueue } from '../common/amqp/queues.js';
import { requeueAfterPause } from '../common/amqp/requeue.js';
import { ERROR_CODE_HEADER, ERROR_HEADER, PARKED_AT_HEADER } from '../common/amqp/wire.js';
import type { Config } from '../common/config/types.js';
import { type ErrorCode, hasCode } from '../common/errors.js';
import { Admission } from '../common/forward/admission.js';
import { type ForwardSession, forwardTask } from '../common/forward/forward.js';
import { type Timing, timingOf } from '../common/forward/schedule.js';
import { DispatcherEvents } from '../common/forward/task-events.js';
import { TypePriorities } from '../common/forward/type-priorities.js';
import type { Logger } from '../common/logger.js';
import { DispatcherCounts } from './counts.js';
import { Intake } from './intake.js';
import { type Route, routeTask } from './route.js';
import type { DispatcherFacts } from './status.js';
import { WorkerQueues } from './worker-queues.js';

/** One channel's consumer and what its deliveries are settled with; new on every reconnect. */
interface Session extends ForwardSession {
  channel: ConfirmChannel;
  acks: AckBatcher;
  publisher: ConfirmedPublisher;
  workerQueues: WorkerQueues;
  /** Each type's priority plan on this connection's broker. */
  priorities: TypePriorities;
  /** The consumer's tag while consuming. */
  consumerTag: string | undefined;
  /** Why consuming or cancelling on this channel failed (it closed). */
  failure?: unknown;
}

type Parked = { ok: false; reason: string; code: ErrorCode };

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
  /** The current channel's session; its acks are flushed before the connection is closed. */
  #session: Session | undefined;
  /** The run of #reconcile under way, if any. */
  #reconciling: Promise<void> | undefined;
  #stopping = false;
  #debug: boolean;
  #intake: Intake;
  /** `[dispatcher] max_body_size` and `types`, as a direct submitter checks them too. */
  #admission: Admission;
  /** What it did, for the metrics (dispatcher-metrics.ts). */
  readonly counts: DispatcherCounts;
  #everConnected = false;
  /** Lifecycle events, with [tracking] enabled only (also each session's, for forwardTask). */
  #events: DispatcherEvents | undefined;

  constructor(config: Config, log: Logger) {
    this.#config = config;
    this.#log = log;
    this.#debug = log.isLevelEnabled('debug');
    const { maxBytesInFlight, types } = config.dispatcher;
    this.#admission = new Admission(config.dispatcher);
    this.counts = new DispatcherCounts(types === '*' ? undefined : types);
    if (config.tracking.enabled) this.#events = new DispatcherEvents();
    this.#intake = new Intake(maxBytesInFlight, (paused) => this.#intakeChanged(paused));
    this.#connection = new AmqpConnection(config.amqp, {
      name: 'taskqueue-dispatcher',
      logger: log,
      setup: (channel, model) => this.#setup(channel, model),
    });
  }

  /** Bytes of deliveries held now (received, not settled). */
  get bytesInHand(): number {
    return this.#intake.bytes;
  }

  /** Emits `fatal` when the broker stays unreachable after a loss. */
  get connection(): AmqpConnection {
    return this.#connection;
  }

  /** Connects, declares the queues and starts consuming. */
  async start(): Promise<void> {
    await this.#connection.start();
  }

  /** What `taskqueue status` and the STATUS= line show (status.ts). */
  facts(): DispatcherFacts {
    const session = this.#session;
    return {
      queue: this.#config.dispatcher.queue,
      everConnected: this.#everConnected,
      connected: this.#connection.channel !== undefined,
      consuming: session?.consumerTag !== undefined,
      paused: this.#intake.paused,
      stopping: this.#stopping,
      bytesInHand: this.#intake.bytes,
      maxBytesInFlight: this.#intake.budget,
      counts: this.counts.totals(),
      declaredTypes: session?.workerQueues.size ?? 0,
    };
  }

  /** Stops consuming, waits for the forwards in flight to be confirmed and acked, disconnects. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    await this.#reconcile();
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    this.#session?.acks.flush();
    this.#log.info({ peakBytesInHand: this.#intake.peak }, 'dispatcher drained');
    await this.#connection.close();
  }

  async #setup(channel: ConfirmChannel, model: ChannelModel): Promise<void> {
    const { queue, prefetch } = this.#config.dispatcher;
    const queueType = this.#config.amqp.queueType;
    // Before anything is consumed: a max_priority this broker cannot honour stops the dispatcher.
    const priorities = new TypePriorities(this.#config, brokerVersionOf(model));
    priorities.log(this.#log);
    await declareQueue(channel, queue, queueType);
    await declareQueue(channel, invalidQueue(queue), queueType);
    // Delayed tasks: the ladder, and its way back here for a task whose destination is gone.
    await declareDelayLadder(channel, queueType);
    await channel.bindQueue(queue, DELAY_UNROUTED_EXCHANGE, '');
    // The direct path (docs/direct-path.md): its unroutable tasks come here, and the worker
    // queues declared below are bound to its exchange.
    await declareDirectPath(channel, queue, queueType);
    if (this.#events) await declareTracking(channel, queueType);
    await channel.prefetch(prefetch);
    this.#everConnected = true;
    this.#session = {
      channel,
      acks: new AckBatcher(channel),
      publisher: new ConfirmedPublisher(channel),
      workerQueues: new WorkerQueues(model, queueType, this.#log, undefined, (type) =>
        priorities.maxPriority(type),
      ),
      priorities,
      events: this.#events,
      consumerTag: undefined,
    };
    const session = this.#session;
    await this.#reconcile();
    // Thrown, so that the connection starts over: it watches the channel only once set up.
    if (session.failure !== undefined) throw session.failure;
  }

  /**
   * Brings the consumer to what is wanted: consuming unless stopping or over the byte budget.
   * One consume or cancel at a time: a call while one runs waits for that run, which looks again
   * after each step, as the want or the session may have changed meanwhile.
   */
  #reconcile(): Promise<void> {
    this.#reconciling ??= this.#reconcileLoop().finally(() => {
      this.#reconciling = undefined;
    });
    return this.#reconciling;
  }

  async #reconcileLoop(): Promise<void> {
    for (;;) {
      const session = this.#session;
      if (!session) return;
      const want = !this.#stopping && !this.#intake.paused;
      try {
        if (want && !session.consumerTag) {
          const { queue, prefetch } = this.#config.dispatcher;
          const { consumerTag } = await session.channel.consume(queue, (message) => {
            if (message) this.#receive(session, message);
          });
          session.consumerTag = consumerTag;
          this.#log.info({ queue, prefetch }, 'dispatcher consuming');
        } else if (!want && session.consumerTag) {
          const tag = session.consumerTag;
          session.consumerTag = undefined;
          await session.channel.cancel(tag);
        } else {
          return;
        }
      } catch (err) {
        // The channel closed: the broker took its deliveries back, and a new #setup brings a
        // new session to consume on.
        session.failure = err;
        if (this.#session === session) return;
      }
    }
  }

  #intakeChanged(paused: boolean): void {
    const { bytes, budget, peak } = this.#intake;
    this.#log.info(
      { bytesInHand: bytes, maxBytesInFlight: budget, peakBytesInHand: peak },
      paused ? 'intake paused: bytes in hand at the budget' : 'intake resumed',
    );
    void this.#reconcile();
  }

  #receive(session: Session, message: ConsumeMessage): void {
    session.acks.received(message);
    if (!this.#intake.admit(message.content.length)) {
      // Over the byte budget: back to the queue, to be taken again once the bytes held drained.
      try {
        session.acks.nack(message, true);
      } catch {
        // The channel closed: the broker has it back already.
      }
      return;
    }
    this.counts.received++;
    void this.#handle(session, message);
  }

  /** Why a task is not forwarded, or where it goes (and when: its timing, schedule.ts). */
  #route(message: ConsumeMessage): (Route & { timing?: Timing }) | Parked {
    const { content, properties } = message;
    const tooLarge = this.#admission.sizeRefusal(content.length);
    if (tooLarge) return tooLarge;
    const route = routeTask(content, properties.contentType);
    if (!route.ok) return route;
    const notAllowed = this.#admission.typeRefusal(route.type);
    if (notAllowed) return notAllowed;
    const timing = timingOf(properties);
    if (timing === undefined) return route;
    return timing.ok ? { ...route, timing } : timing;
  }

  async #handle(session: Session, message: ConsumeMessage): Promise<void> {
    const { acks, publisher, workerQueues } = session;
    const { properties, content } = message;
    const ids = { messageId: properties.messageId, correlationId: properties.correlationId };
    const route = this.#route(message);
    // Counted here, not by a `finally` on the returned promise: that costs two more promises and
    // a microtask a task.
    this.#inFlight++;
    try {
      if (route.ok) {
        const target = workerQueue(route.type);
        if (!workerQueues.declared(route.type)) await workerQueues.ensure(route.type);
        await forwardTask(session, {
          type: route.type,
          content,
          received: properties,
          options: forwardProperties(properties),
          timing: route.timing,
          exchange: '',
          routingKey: target,
        });
        this.counts.forward(route.type);
        // Guarded: building the fields for every task costs at full speed, even when dropped.
        if (this.#debug)
          this.#log.debug({ ...ids, type: route.type, queue: target }, 'task forwarded');
      } else {
        await this.#park(
          publisher,
          message,
          route.reason,
          'code' in route ? route.code : undefined,
        );
      }
      acks.ack(message);
    } catch (err) {
      if (hasCode(err, 'TQ_ERR_AMQP_CHANNEL_CLOSED')) return; // the broker redelivers it
      if (hasCode(err, 'TQ_ERR_AMQP_ENCODE')) {
        // Its properties cannot be written again as they came (another client's header value
        // out of range): as it is, it cannot be forwarded, ever.
        await this.#parkUnencodable(acks, publisher, message, (err as Error).message);
        return;
      }
      if (hasCode(err, 'TQ_ERR_AMQP_QUEUE_REFUSED')) {
        // Its queue cannot be made (the vhost's queue limit): retrying would hold a prefetch
        // slot a second at a time, and enough such tasks would hold them all.
        await this.#parkOrRequeue(
          acks,
          publisher,
          message,
          (err as Error).message,
          'TQ_ERR_AMQP_QUEUE_REFUSED',
        );
        return;
      }
      // Refused or unroutable (the queue was deleted meanwhile): declare again and retry later,
      // after a pause, so that a broker refusing everything is not asked again in a hot loop.
      if (route.ok) workerQueues.forget(route.type);
      const code = (err as { code?: unknown }).code;
      this.#log.error({ ...ids, err: (err as Error).message, code }, 'forward failed; requeued');
      await requeueAfterPause(acks, message);
    } finally {
      this.#inFlight--;
      this.#intake.release(content.length);
      if (this.#inFlight === 0) this.#idle?.();
    }
  }

  /** Parks an invalid task on `<input>.invalid`, unchanged, with the reason and time in headers. */
  async #park(
    publisher: ConfirmedPublisher,
    message: ConsumeMessage,
    reason: string,
    code: ErrorCode = 'TQ_ERR_TASK_INVALID',
  ) {
    const target = invalidQueue(this.#config.dispatcher.queue);
    const { properties, content } = message;
    const parked = publisher.publish(
      '',
      target,
      content,
      forwardProperties(properties, {
        [ERROR_HEADER]: reason,
        [ERROR_CODE_HEADER]: code,
        [PARKED_AT_HEADER]: new Date().toISOString(),
      }),
    );
    const event = this.#events?.invalid(publisher, message, reason, code);
    await (event ? Promise.all([parked, event]) : parked);
    this.counts.park(code);
    this.#logParked(properties, reason, target, code);
  }

  #logParked(
    properties: MessageProperties,
    reason: string,
    queue: string,
    code: ErrorCode = 'TQ_ERR_TASK_INVALID',
  ): void {
    this.#log.warn({ messageId: properties.messageId, code, reason, queue }, 'invalid task parked');
  }

  /** Parks a task for `reason`; failing that, requeues it after a pause. */
  async #parkOrRequeue(
    acks: AckBatcher,
    publisher: ConfirmedPublisher,
    message: ConsumeMessage,
    reason: string,
    code: ErrorCode,
  ): Promise<void> {
    try {
      await this.#park(publisher, message, reason, code);
      acks.ack(message);
    } catch (err) {
      if (hasCode(err, 'TQ_ERR_AMQP_CHANNEL_CLOSED')) return;
      this.#log.error({ err: (err as Error).message }, 'parking failed; requeued');
      await requeueAfterPause(acks, message);
    }
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
    const bare: Options.Publish = {
      persistent: true,
      headers: {
        [ERROR_HEADER]: reason,
        [ERROR_CODE_HEADER]: 'TQ_ERR_AMQP_ENCODE',
        [PARKED_AT_HEADER]: new Date().toISOString(),
      },
    };
    for (const key of ['contentType', 'messageId', 'correlationId'] as const) {
      if (properties[key] !== undefined) bare[key] = properties[key];
    }
    try {
      const parked = publisher.publish('', target, content, bare);
      const event = this.#events?.invalid(publisher, message, reason, 'TQ_ERR_AMQP_ENCODE');
      await (event ? Promise.all([parked, event]) : parked);
      this.counts.park('TQ_ERR_AMQP_ENCODE');
      acks.ack(message);
      this.#logParked(properties, reason, target, 'TQ_ERR_AMQP_ENCODE');
    } catch (err) {
      if (hasCode(err, 'TQ_ERR_AMQP_CHANNEL_CLOSED')) return;
      this.#log.error({ err: (err as Error).message }, 'parking failed; requeued');
      await requeueAfterPause(acks, message);
    }
  }
}
