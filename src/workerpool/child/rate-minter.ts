import type { Channel } from 'amqplib';
import {
  rateTokenQueue,
  rateTokenQueueDeclaration,
  workerQueue,
} from '../../common/amqp/queues.js';
import type { QueueType } from '../../common/config/types.js';
import type { Logger } from '../../common/logger.js';
import {
  IDLE_RECHECK_MS,
  MAX_TICK_MS,
  recheckDelayMs,
  TokenShare,
  tokenLifetimeMs,
} from './rate-share.js';

/** A token says nothing but that it exists. */
const TOKEN = Buffer.alloc(0);

/** Milliseconds on a monotonic clock (not performance.now: see task.ts `startClock`). */
const nowMs = (): number => Number(process.hrtime.bigint() / 1000n) / 1000;

/**
 * Mints this child's share of a type's `rate_limit` into `taskqueue.rate.<type>.tokens`, on the
 * gate's token channel: a tick publishes the tokens due (rate-share.ts), and about once a second
 * the queue is declared again, whose declare-ok counts its consumers, to learn the share. Tokens
 * carry their own `expiration`, so what an idle or busy type banks stays about a second's worth.
 *
 * Minting runs only while this child consumes tokens: a retiring or stopping child stops, and
 * the others' next recount gives them its share. A child whose gets found no task for a second
 * stops minting too, and looks at `worker_<type>`'s ready messages four times a second instead;
 * the first task there starts minting again.
 */
export class RateMinter {
  readonly share: TokenShare;
  #type: string;
  #queueType: QueueType;
  #log: Logger;
  #lifetime: string;
  #channel: Channel | undefined;
  #tick: ReturnType<typeof setTimeout> | undefined;
  #recount: ReturnType<typeof setTimeout> | undefined;

  constructor(type: string, rate: number, queueType: QueueType, log: Logger) {
    this.#type = type;
    this.#queueType = queueType;
    this.#log = log;
    this.share = new TokenShare(rate, nowMs());
    this.#lifetime = String(tokenLifetimeMs(rate));
  }

  /** Starts minting on `channel`, this child's token consumer already counted there. */
  async start(channel: Channel): Promise<void> {
    this.stop();
    this.#channel = channel;
    this.share.reset(nowMs());
    await this.#count(channel);
    if (this.#channel !== channel) return;
    this.#log.info(
      {
        queue: rateTokenQueue(this.#type),
        rateLimit: this.share.rate,
        consumers: this.share.consumers,
        share: this.share.share,
      },
      'rate limit: minting tokens',
    );
    this.#scheduleTick(channel);
    this.#scheduleRecount(channel);
  }

  /** A get found a task. */
  found(): void {
    this.share.found(nowMs());
  }

  /** A get found `worker_<type>` empty. */
  empty(): void {
    if (this.share.empty(nowMs())) this.#log.debug('rate limit: no tasks; minting paused');
  }

  /** Stops minting (idempotent). */
  stop(): void {
    this.#channel = undefined;
    clearTimeout(this.#tick);
    clearTimeout(this.#recount);
    this.#tick = undefined;
    this.#recount = undefined;
  }

  #scheduleTick(channel: Channel): void {
    this.#tick = setTimeout(
      () => {
        if (this.#channel !== channel) return;
        const due = this.share.take(nowMs());
        const queue = rateTokenQueue(this.#type);
        try {
          for (let i = 0; i < due; i++)
            channel.publish('', queue, TOKEN, { expiration: this.#lifetime });
        } catch {
          // The channel closed: the gate starts over on the next connection.
          this.stop();
          return;
        }
        this.#scheduleTick(channel);
        // Idle, a tick only keeps the clock: the slowest one will do.
      },
      this.share.idle ? MAX_TICK_MS : this.share.tickMs,
    );
  }

  #scheduleRecount(channel: Channel): void {
    const idle = this.share.idle;
    this.#recount = setTimeout(
      async () => {
        if (this.#channel !== channel) return;
        try {
          if (!idle) await this.#count(channel);
          else if ((await channel.checkQueue(workerQueue(this.#type))).messageCount > 0) {
            this.share.resume(nowMs());
            this.#log.debug('rate limit: tasks wait; minting again');
            await this.#count(channel);
          }
        } catch {
          // The channel closed (a missing worker queue closes it too): the gate starts over.
          this.stop();
          return;
        }
        if (this.#channel === channel) this.#scheduleRecount(channel);
      },
      idle ? IDLE_RECHECK_MS : recheckDelayMs(Math.random()),
    );
  }

  async #count(channel: Channel): Promise<void> {
    const declaration = rateTokenQueueDeclaration(this.#type, this.#queueType);
    const { consumerCount } = await channel.assertQueue(declaration.name, declaration.options);
    if (this.#channel !== channel) return;
    const before = this.share.consumers;
    this.share.setConsumers(consumerCount, nowMs());
    if (this.share.consumers !== before)
      this.#log.debug(
        { consumers: this.share.consumers, share: this.share.share },
        'rate limit: share changed',
      );
  }
}
