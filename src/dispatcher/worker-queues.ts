import type { Channel, ChannelModel } from 'amqplib';
import { bindDelayDestination } from '../common/amqp/delay.js';
import { bindToTypes } from '../common/amqp/direct-path.js';
import { workerQueueDeclaration } from '../common/amqp/queues.js';
import { ReplyCode, replyCodeOf } from '../common/amqp/reply-codes.js';
import type { QueueType } from '../common/config/types.js';
import { TqError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';

/**
 * The most types remembered as declared. Any sender can name new types: without a bound the
 * map grows with every one. Past it, the type remembered longest is forgotten (and declared
 * again, idempotently, when its next task comes); a type's forward never waits on the bound.
 */
export const MAX_REMEMBERED_TYPES = 10_000;

/**
 * Declares `worker_<type>` before the first task of a type goes there, once per connection, and
 * binds it to the delay ladder's deliver exchange (delay.ts) so that its delayed tasks come out,
 * and to the direct path's exchange (direct-path.ts) so that direct tasks reach it.
 * It uses a channel of its own: a declaration the broker refuses (the queue exists with other
 * arguments) closes that channel only, never the one tasks flow on. Such a queue is reported
 * loudly and used as it is, so tasks keep flowing to the consumers that are already there.
 */
export class WorkerQueues {
  #model: ChannelModel;
  #queueType: QueueType;
  #log: Logger;
  #channel: Promise<Channel> | undefined;
  #declared = new Map<string, Promise<void>>();
  /** Types whose declaration completed: checked synchronously on every forward. */
  #done = new Set<string>();

  readonly #limit: number;
  /** A type's `max_priority`, for its declaration (type-priorities.ts). */
  readonly #maxPriority: (type: string) => number | undefined;

  constructor(
    model: ChannelModel,
    queueType: QueueType,
    log: Logger,
    limit = MAX_REMEMBERED_TYPES,
    maxPriority: (type: string) => number | undefined = () => undefined,
  ) {
    this.#limit = limit;
    this.#maxPriority = maxPriority;
    this.#model = model;
    this.#queueType = queueType;
    this.#log = log;
  }

  /** True once `worker_<type>` was declared on this connection (no await on the hot path). */
  declared(type: string): boolean {
    return this.#done.has(type);
  }

  ensure(type: string): Promise<void> {
    let done = this.#declared.get(type);
    if (!done) {
      done = this.#declare(type);
      this.#declared.set(type, done);
      if (this.#declared.size > this.#limit) this.#forgetOldest();
      const declaring = done;
      declaring.then(
        () => {
          if (this.#declared.get(type) === declaring) this.#done.add(type);
        },
        () => {},
      );
      // Failed for another reason (the connection went): try again with the next task.
      done.catch(() => this.#declared.delete(type));
    }
    return done;
  }

  /** The number of types remembered (declared or being declared). */
  get size(): number {
    return this.#declared.size;
  }

  /** A Map iterates in insertion order: the first key is the type remembered longest. */
  #forgetOldest(): void {
    const oldest = this.#declared.keys().next().value;
    if (oldest !== undefined) this.forget(oldest);
  }

  /** Declare again before the next forward (the queue may have been deleted meanwhile). */
  forget(type: string): void {
    this.#declared.delete(type);
    this.#done.delete(type);
  }

  async #declare(type: string): Promise<void> {
    const maxPriority = this.#maxPriority(type);
    const { name, options } = workerQueueDeclaration(type, this.#queueType, maxPriority);
    const channel = await this.#openChannel();
    try {
      await channel.assertQueue(name, options);
    } catch (err) {
      this.#channel = undefined; // the broker closed it
      if (replyCodeOf(err) !== ReplyCode.PRECONDITION_FAILED) throw err;
      // The same refusal says "exists with other arguments" and "the vhost's queue limit is
      // reached": whether the queue is there tells them apart without reading the text.
      if (!(await this.#exists(name))) {
        throw new TqError(
          'TQ_ERR_AMQP_QUEUE_REFUSED',
          `the broker refused to declare queue ${name}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      this.#log.error(
        { code: 'TQ_ERR_AMQP_QUEUE_MISMATCH', queue: name, wanted: options.arguments },
        `queue ${name} exists with other arguments than this system declares ` +
          `(queue_type ${this.#queueType}, max_priority ${maxPriority ?? 'none'}); tasks still ` +
          'go to it as it is. A queue keeps its arguments: make the config match, or let it ' +
          `drain (or \`taskqueue purge ${name}\`), delete it (rabbitmqctl delete_queue ${name}) ` +
          'and restart the pools and the dispatcher (docs/priorities.md)',
      );
    }
    // The ladder is declared by the dispatcher's setup, before any task is taken. Bound to the
    // direct path too, its exchange declared again (once per type: an exchange deleted since
    // the setup would fail every forward of the type until a reconnect): the next task of the
    // type skips the dispatcher.
    const binding = await this.#openChannel();
    try {
      await bindDelayDestination(binding, name);
      await bindToTypes(binding, type);
    } catch (err) {
      this.#channel = undefined; // the broker closed it
      throw err;
    }
  }

  /** True when `name` exists; a missing queue closes the channel it was checked on. */
  async #exists(name: string): Promise<boolean> {
    const channel = await this.#openChannel();
    try {
      await channel.checkQueue(name);
      return true;
    } catch (err) {
      this.#channel = undefined;
      if (replyCodeOf(err) === ReplyCode.NOT_FOUND) return false;
      throw err;
    }
  }

  #openChannel(): Promise<Channel> {
    if (!this.#channel) {
      const opening = this.#model.createChannel().then((channel) => {
        channel.on('error', () => {});
        channel.once('close', () => {
          if (this.#channel === opening) this.#channel = undefined;
        });
        return channel;
      });
      opening.catch(() => {
        if (this.#channel === opening) this.#channel = undefined;
      });
      this.#channel = opening;
    }
    return this.#channel;
  }
}
