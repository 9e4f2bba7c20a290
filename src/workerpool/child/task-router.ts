import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import {
  bindDelayDestination,
  declareDelayLadder,
  publishDelayed,
} from '../../common/amqp/delay.js';
import { encodableCopy, forwardProperties } from '../../common/amqp/properties.js';
import type { ConfirmedPublisher } from '../../common/amqp/publisher.js';
import { deadQueue, workerQueue } from '../../common/amqp/queues.js';
import { ERROR_HEADER, PARKED_AT_HEADER } from '../../common/amqp/wire.js';
import type { QueueType } from '../../common/config/types.js';
import { hasCode } from '../../common/errors.js';
import {
  ATTEMPT_HEADER,
  CRASH_LOG_HEADER,
  CRASHES_HEADER,
  jittered,
  retryDelayMs,
} from './attempts.js';

/** The longest error text carried in a header (headers travel with every redelivery). */
const MAX_ERROR_HEADER = 1_000;

/** Sends a task's message somewhere other than its result: a retry, a crash count, the dead queue. */
export class TaskRouter {
  #channel: ConfirmChannel;
  #publisher: ConfirmedPublisher;
  #type: string;
  #queueType: QueueType;
  /** The delay ladder and this type's way out of it, declared on first use on this channel. */
  #ladder: Promise<void> | undefined;

  constructor(
    channel: ConfirmChannel,
    publisher: ConfirmedPublisher,
    type: string,
    queueType: QueueType,
  ) {
    this.#channel = channel;
    this.#publisher = publisher;
    this.#type = type;
    this.#queueType = queueType;
  }

  /**
   * Puts the task back for attempt `nextAttempt`, after `retryDelayMs` (jittered) in the broker:
   * it waits in the delay ladder (delay.ts) and comes out at `worker_<type>`, its due time in
   * NOT_BEFORE_HEADER. Resolves to the wait it was given, in ms.
   */
  async retry(
    message: ConsumeMessage,
    retryDelaySeconds: number,
    nextAttempt: number,
    error: string,
  ): Promise<number> {
    const nominal = retryDelayMs(retryDelaySeconds, nextAttempt);
    const options = forwardProperties(message.properties, {
      [ATTEMPT_HEADER]: nextAttempt,
      [ERROR_HEADER]: error.slice(0, MAX_ERROR_HEADER),
    });
    if (nominal === 0) {
      delete options.expiration;
      await this.#send(workerQueue(this.#type), message.content, options);
      return 0;
    }
    const delay = jittered(nominal);
    await this.#sendDelayed(message.content, options, Date.now() + delay);
    return delay;
  }

  /** Puts a task that came before its time (`dueMs`) back into the delay ladder for the rest. */
  async delay(message: ConsumeMessage, dueMs: number): Promise<void> {
    await this.#sendDelayed(message.content, forwardProperties(message.properties), dueMs);
  }

  /** Puts a task whose consumer died back at the end of its queue, with the crash counted. */
  async requeueAfterCrash(message: ConsumeMessage, crashes: number, log: string[]): Promise<void> {
    const options = forwardProperties(message.properties, {
      [CRASHES_HEADER]: crashes,
      [CRASH_LOG_HEADER]: log,
    });
    await this.#send(workerQueue(this.#type), message.content, options);
  }

  /**
   * Puts a task this child let go of, through no fault of its own, back at the end of its queue
   * unchanged: a copy, so that it does not come back flagged as redelivered (which any pool, on
   * any host, would count as a crash).
   */
  async handBack(message: ConsumeMessage): Promise<void> {
    const options = forwardProperties(message.properties);
    await this.#send(workerQueue(this.#type), message.content, options);
  }

  /** Parks a task on `worker_<type>.dead`, unchanged but for headers saying why and when. */
  async park(message: ConsumeMessage, reason: string, extra: Record<string, unknown> = {}) {
    const options = forwardProperties(message.properties, {
      ...extra,
      [ERROR_HEADER]: reason.slice(0, MAX_ERROR_HEADER),
      [PARKED_AT_HEADER]: new Date().toISOString(),
    });
    await this.#send(deadQueue(this.#type), message.content, options);
  }

  /** Into the ladder, to come out at `worker_<type>` at `dueMs`; as #send, with the same fallback. */
  async #sendDelayed(content: Buffer, options: Options.Publish, dueMs: number): Promise<void> {
    this.#ladder ??= this.#declareLadder();
    await this.#ladder;
    const destination = workerQueue(this.#type);
    try {
      await publishDelayed(this.#publisher, content, options, destination, dueMs);
    } catch (err) {
      if (!hasCode(err, 'TQ_ERR_AMQP_ENCODE')) throw err;
      const copy = encodableCopy(options, (err as Error).message);
      await publishDelayed(this.#publisher, content, copy, destination, dueMs);
    }
  }

  #declareLadder(): Promise<void> {
    const declaring = (async () => {
      await declareDelayLadder(this.#channel, this.#queueType);
      await bindDelayDestination(this.#channel, workerQueue(this.#type));
    })();
    // Failed (the channel went): declared again on the next use.
    declaring.catch(() => {
      if (this.#ladder === declaring) this.#ladder = undefined;
    });
    return declaring;
  }

  /**
   * Every republish of a task goes through here. A message another client published straight
   * to `worker_<type>` may carry properties amqplib reads but cannot write again: sent as it is it
   * fails every time, and the task would be requeued forever. It goes on without them instead
   * (properties.ts `encodableCopy`), with a header naming what was dropped.
   */
  async #send(queue: string, content: Buffer, options: Options.Publish): Promise<void> {
    try {
      await this.#publisher.publish('', queue, content, options);
    } catch (err) {
      if (!hasCode(err, 'TQ_ERR_AMQP_ENCODE')) throw err;
      await this.#publisher.publish(
        '',
        queue,
        content,
        encodableCopy(options, (err as Error).message),
      );
    }
  }
}
