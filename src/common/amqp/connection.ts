import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { redactUrl } from '../config/amqp-url.js';
import type { AmqpConfig } from '../config/types.js';
import { hasCode, TqError } from '../errors.js';
import type { Logger } from '../logger.js';
import { backoffDelay } from './backoff.js';
import { connectTargets } from './connect-options.js';
import { gatherWrites } from './gather-writes.js';
import { accessRefusedError, brokerRefusal } from './refusal.js';
import { isDeclarationRefusal } from './reply-codes.js';

/**
 * Declares what a program needs on a fresh channel: queues, prefetch, consumers. It runs again
 * after every reconnect, so nothing is declared once and forgotten.
 */
export type SetupFunction = (channel: ConfirmChannel, model: ChannelModel) => Promise<void>;

export interface AmqpConnectionOptions {
  /** Shown in the broker's connection list, with host and pid. */
  name: string;
  logger: Logger;
  setup: SetupFunction;
}

/**
 * One broker connection with one confirm channel, kept up: on loss it reconnects over the
 * config's URLs with jittered exponential backoff and runs `setup` again. After `connectRetries`
 * failed attempts in a row it emits `fatal` with TQ_ERR_AMQP_UNREACHABLE (exit 69); a broker
 * that refuses the user, password or vhost ends it at once with TQ_ERR_AMQP_ACCESS_REFUSED (78).
 *
 * Events: `connected` (channel), `disconnected` (error), `fatal` (error).
 */
export class AmqpConnection extends EventEmitter {
  #config: AmqpConfig;
  #options: AmqpConnectionOptions;
  #model: ChannelModel | undefined;
  #channel: ConfirmChannel | undefined;
  #closing = false;
  #loop: Promise<void> | undefined;

  constructor(config: AmqpConfig, options: AmqpConnectionOptions) {
    super();
    this.#config = config;
    this.#options = options;
  }

  /** The live channel, or undefined while disconnected. */
  get channel(): ConfirmChannel | undefined {
    return this.#channel;
  }

  /** Connects and runs setup; rejects when the broker stays unreachable or setup is refused. */
  async start(): Promise<void> {
    await this.#connectWithRetries();
  }

  /** Closes the channel and the connection. Safe to call more than once. */
  async close(): Promise<void> {
    this.#closing = true;
    const model = this.#model;
    const channel = this.#channel;
    this.#model = undefined;
    this.#channel = undefined;
    if (channel) {
      // Channel first: amqplib buffers frames per channel, so a bare connection close can reach
      // the broker before the channel's last acks, and the broker would requeue those tasks.
      // The broker answers a channel close only after everything sent before it on that channel.
      try {
        await channel.close();
      } catch {
        // Already closed: its acks either landed or the broker redelivers those tasks.
      }
    }
    if (model) {
      try {
        await model.close();
      } catch {
        // Already closed by the broker or the network: nothing left to release.
      }
    }
    await this.#loop;
  }

  async #connectWithRetries(): Promise<void> {
    const targets = connectTargets(this.#config, this.#options.name);
    const log = this.#options.logger;
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.#config.connectRetries; attempt++) {
      if (this.#closing) return;
      const target = targets[attempt % targets.length]!;
      try {
        await this.#connectOnce(target.url, target.socketOptions);
        log.info({ url: redactUrl(target.url), attempt }, 'connected to broker');
        return;
      } catch (err) {
        // Config the broker refuses: another attempt would be refused the same way.
        if (
          hasCode(err, 'TQ_ERR_AMQP_QUEUE_MISMATCH') ||
          hasCode(err, 'TQ_ERR_PRIORITY_UNSUPPORTED')
        )
          throw err;
        // Users and vhosts are the same on every node of a cluster: no other URL can help.
        const refusal = brokerRefusal(err);
        if (refusal) throw accessRefusedError(target.url, refusal, err);
        lastError = err;
        const delay = backoffDelay(attempt);
        log.warn(
          { url: redactUrl(target.url), attempt, retryInMs: delay, err: describe(err) },
          'broker connection failed',
        );
        await sleep(delay);
      }
    }
    throw new TqError(
      'TQ_ERR_AMQP_UNREACHABLE',
      `broker unreachable after ${this.#config.connectRetries + 1} attempts (${this.#config.urls
        .map(redactUrl)
        .join(', ')}): ${describe(lastError)}`,
      { cause: lastError },
    );
  }

  async #connectOnce(url: string, socketOptions: Record<string, unknown>): Promise<void> {
    const model = await amqp.connect(url, socketOptions);
    gatherWrites(model);
    let channel: ConfirmChannel;
    try {
      channel = await model.createConfirmChannel();
      // Errors are reported through 'close'; without a listener amqplib would throw them.
      model.on('error', () => {});
      channel.on('error', () => {});
      await this.#options.setup(channel, model);
    } catch (err) {
      await model.close().catch(() => {});
      throw asQueueMismatch(err);
    }
    this.#model = model;
    this.#channel = channel;
    const onLost = (why: unknown) => this.#lost(model, why);
    model.once('close', onLost);
    // A channel-level error (an ack for an unknown tag, say) closes only the channel: start over
    // with a fresh connection so every consumer is set up again.
    channel.once('close', () => onLost(new Error('channel closed')));
    this.emit('connected', channel);
  }

  #lost(model: ChannelModel, why: unknown): void {
    if (this.#model !== model) return;
    this.#model = undefined;
    this.#channel = undefined;
    model.close().catch(() => {});
    if (this.#closing) return;
    this.#options.logger.warn({ err: describe(why) }, 'broker connection lost; reconnecting');
    this.emit('disconnected', why);
    this.#loop = this.#connectWithRetries().catch((err) => {
      this.emit('fatal', err);
    });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function asQueueMismatch(err: unknown): unknown {
  // PRECONDITION_FAILED on a declare: the queue exists with other arguments.
  if (!isDeclarationRefusal(err)) return err;
  return new TqError(
    'TQ_ERR_AMQP_QUEUE_MISMATCH',
    `the broker refused a declaration: ${describe(err)}. A queue of this name exists with other ` +
      'arguments (queue_type, max_priority, delivery limit, dead-lettering) and keeps them: make ' +
      'the config match, or let it drain (or `taskqueue purge` it), delete it (rabbitmqctl ' +
      'delete_queue) and restart (docs/priorities.md)',
    { cause: err },
  );
}
