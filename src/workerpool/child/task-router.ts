import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { encodableCopy, forwardProperties } from '../../common/amqp/properties.js';
import type { ConfirmedPublisher } from '../../common/amqp/publisher.js';
import {
  deadQueue,
  declare,
  retryQueueDeclaration,
  workerQueue,
} from '../../common/amqp/queues.js';
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
  #declared = new Map<number, Promise<void>>();

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
   * it waits in `worker_<type>.retry.<ms>ms` and is dead-lettered back to `worker_<type>`.
   */
  async retry(
    message: ConsumeMessage,
    retryDelaySeconds: number,
    nextAttempt: number,
    error: string,
  ): Promise<number> {
    const delay = retryDelayMs(retryDelaySeconds, nextAttempt);
    const options = forwardProperties(message.properties, {
      [ATTEMPT_HEADER]: nextAttempt,
      [ERROR_HEADER]: error.slice(0, MAX_ERROR_HEADER),
    });
    if (delay === 0) {
      delete options.expiration;
      await this.#send(workerQueue(this.#type), message.content, options);
      return 0;
    }
    const declaration = retryQueueDeclaration(this.#type, delay, this.#queueType);
    let declared = this.#declared.get(delay);
    if (!declared) {
      declared = declare(this.#channel, declaration);
      this.#declared.set(delay, declared);
      declared.catch(() => this.#declared.delete(delay));
    }
    await declared;
    options.expiration = String(jittered(delay));
    await this.#send(declaration.name, message.content, options);
    return delay;
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
