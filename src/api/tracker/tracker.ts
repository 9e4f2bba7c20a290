import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { AckBatcher } from '../../common/amqp/acks.js';
import { AmqpConnection } from '../../common/amqp/connection.js';
import { ConfirmedPublisher } from '../../common/amqp/publisher.js';
import {
  declareQueue,
  declareTracking,
  TRACKER_INVALID_QUEUE,
  TRACKER_QUEUE,
} from '../../common/amqp/queues.js';
import { requeueAfterPause } from '../../common/amqp/requeue.js';
import { ERROR_CODE_HEADER, ERROR_HEADER, PARKED_AT_HEADER } from '../../common/amqp/wire.js';
import type { AmqpConfig, QueueType } from '../../common/config/types.js';
import { hasCode } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { WireEvent } from '../../common/tracking/event.js';
import { parseEvent } from '../../common/tracking/parse.js';
import type { TaskEvent, TaskStore } from '../store/types.js';
import { toTaskEvent } from './to-task-event.js';

export interface TrackerOptions {
  amqp: AmqpConfig;
  store: TaskStore;
  log: Logger;
  /**
   * Events in hand at once (default 200), and the most applied in one store transaction: in
   * arrival order, a batch after the one before.
   */
  prefetch?: number;
  /** Called after each event the store applied (it changed something), before its ack. */
  onApplied?: (event: TaskEvent) => void;
}

/** What the tracker did since it started. */
export interface TrackerCounts {
  /** Events the store applied (it changed something). */
  applied: number;
  /** Events the store already knew (a duplicate, a late intermediate one). */
  unchanged: number;
  /** Events it could not read, parked on TRACKER_INVALID_QUEUE. */
  parked: number;
  /** Events handed back because the store failed (retried after a pause). */
  retried: number;
}

interface Session {
  channel: ConfirmChannel;
  acks: AckBatcher;
  publisher: ConfirmedPublisher;
  /** The end of the chain of this channel's batches: each waits for the one before. */
  tail: Promise<void>;
  /** Delivered, not yet in a batch. */
  pending: ConsumeMessage[];
  /** A drain is running or due: a new delivery joins its next batch. */
  draining: boolean;
  consumerTag?: string;
}

/**
 * Consumes `taskqueue.tracker` and applies each lifecycle event to the store, acking it only
 * once the store committed it: a crash at any point leaves the event on the queue, and applying
 * it again is harmless (the store applies by precedence). Events are applied in the order they
 * arrive, the ones in hand together (`applyBatch`, one transaction), so that a task's events
 * from one publisher are applied in the order that publisher sent them. An event it cannot read
 * is parked with TQ_ERR_EVENT_INVALID, never requeued; a store that fails gets the event back
 * after a pause.
 *
 * Reconnects as the daemons do (AmqpConnection), declaring the exchange, the queue and its
 * binding again on every new channel.
 */
export class Tracker {
  #options: TrackerOptions;
  #connection: AmqpConnection;
  #session: Session | undefined;
  #stopping = false;
  readonly counts: TrackerCounts = { applied: 0, unchanged: 0, parked: 0, retried: 0 };

  constructor(options: TrackerOptions) {
    this.#options = options;
    this.#connection = new AmqpConnection(options.amqp, {
      name: 'taskqueue-api-tracker',
      logger: options.log,
      setup: (channel) => this.#setup(channel, options.amqp.queueType),
    });
  }

  get connection(): AmqpConnection {
    return this.#connection;
  }

  async start(): Promise<void> {
    await this.#connection.start();
  }

  /** Stops consuming, lets the events in hand be applied and acked, disconnects. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const session = this.#session;
    if (session) {
      if (session.consumerTag) await session.channel.cancel(session.consumerTag).catch(() => {});
      await session.tail;
      session.acks.flush();
    }
    await this.#connection.close();
  }

  async #setup(channel: ConfirmChannel, queueType: QueueType): Promise<void> {
    await declareTracking(channel, queueType);
    await declareQueue(channel, TRACKER_INVALID_QUEUE, queueType);
    await channel.prefetch(this.#options.prefetch ?? 200);
    const session: Session = {
      channel,
      acks: new AckBatcher(channel),
      publisher: new ConfirmedPublisher(channel),
      tail: Promise.resolve(),
      pending: [],
      draining: false,
    };
    this.#session = session;
    if (this.#stopping) return;
    const { consumerTag } = await channel.consume(TRACKER_QUEUE, (message) => {
      if (!message) return; // cancelled by the broker: the connection's loop starts over
      session.acks.received(message);
      session.pending.push(message);
      if (session.draining) return;
      session.draining = true;
      // After the deliveries of the data read so far: they make the first batch together.
      session.tail = session.tail
        .then(() => new Promise((resolve) => setImmediate(resolve)))
        .then(() => this.#drain(session));
    });
    session.consumerTag = consumerTag;
    this.#options.log.info({ queue: TRACKER_QUEUE }, 'tracker consuming');
  }

  /** Applies the pending events a batch at a time, in arrival order, until none is left. */
  async #drain(session: Session): Promise<void> {
    try {
      while (session.pending.length > 0) {
        await this.#handleBatch(session, session.pending.splice(0, this.#batchSize()));
      }
    } finally {
      session.draining = false;
    }
  }

  #batchSize(): number {
    return this.#options.prefetch ?? 200;
  }

  /**
   * The events of a batch applied in one store transaction (`applyBatch`), then acked: one
   * commit for the events in hand, not one an event. An event it cannot read is parked first
   * (it changes no task). When the batch fails, its events are applied one at a time (#handle),
   * so that only what the store refuses is handed back. Never rejects.
   */
  async #handleBatch(session: Session, messages: ConsumeMessage[]): Promise<void> {
    const readable: { message: ConsumeMessage; event: TaskEvent }[] = [];
    for (const message of messages) {
      try {
        readable.push({ message, event: toTaskEvent(parseEvent(message.content)) });
      } catch (err) {
        await this.#park(session, message, err as Error);
      }
    }
    if (readable.length === 0) return;
    let changed: boolean[];
    try {
      changed = await this.#options.store.applyBatch(readable.map((r) => r.event));
    } catch (err) {
      this.#options.log.warn(
        { err: (err as Error).message, events: readable.length },
        'batch of events not applied; applying them one at a time',
      );
      for (const { message } of readable) await this.#handle(session, message);
      return;
    }
    readable.forEach(({ message, event }, i) => {
      if (changed[i]) {
        this.counts.applied++;
        this.#options.onApplied?.(event);
      } else this.counts.unchanged++;
      session.acks.ack(message);
    });
  }

  /** Never rejects: every path ends in an ack, a park or a hand-back. */
  async #handle(session: Session, message: ConsumeMessage): Promise<void> {
    let event: WireEvent;
    try {
      event = parseEvent(message.content);
    } catch (err) {
      await this.#park(session, message, err as Error);
      return;
    }
    try {
      const taskEvent = toTaskEvent(event);
      const changed = await this.#options.store.apply(taskEvent);
      if (changed) {
        this.counts.applied++;
        this.#options.onApplied?.(taskEvent);
      } else this.counts.unchanged++;
      session.acks.ack(message);
    } catch (err) {
      this.counts.retried++;
      this.#options.log.error(
        { err: (err as Error).message, taskId: event.taskId, event: event.event },
        'event not applied; handed back',
      );
      await requeueAfterPause(session.acks, message);
    }
  }

  /** An event that cannot be read: parked as it came, with why, then acked. */
  async #park(session: Session, message: ConsumeMessage, err: Error): Promise<void> {
    const reason = err.message.slice(0, 1000);
    try {
      await session.publisher.publish('', TRACKER_INVALID_QUEUE, message.content, {
        persistent: true,
        contentType: message.properties.contentType,
        headers: {
          [ERROR_HEADER]: reason,
          [ERROR_CODE_HEADER]: 'TQ_ERR_EVENT_INVALID',
          [PARKED_AT_HEADER]: new Date().toISOString(),
        },
      });
      this.counts.parked++;
      session.acks.ack(message);
      this.#options.log.warn(
        { code: 'TQ_ERR_EVENT_INVALID', reason, queue: TRACKER_INVALID_QUEUE },
        'invalid event parked',
      );
    } catch (parkErr) {
      if (hasCode(parkErr, 'TQ_ERR_AMQP_CHANNEL_CLOSED')) return; // redelivered
      this.#options.log.error({ err: (parkErr as Error).message }, 'parking failed; requeued');
      await requeueAfterPause(session.acks, message);
    }
  }
}
