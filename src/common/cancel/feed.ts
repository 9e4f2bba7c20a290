import { randomUUID } from 'node:crypto';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { ConfirmedPublisher } from '../amqp/publisher.js';
import {
  CANCELS_MAX_AGE_MS,
  CANCELS_STREAM,
  cancelsStreamDeclaration,
  declare,
} from '../amqp/queues.js';
import { TqError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type CancelMessage, encodeCancelMessage, parseCancelMessage } from './message.js';
import { CancelSet } from './set.js';

/** Stream deliveries in flight to the reader (a stream consumer must have a prefetch). */
const STREAM_PREFETCH = 2000;
/**
 * Acked `multiple` every this many deliveries, not one by one: a per-message ack held the read
 * back to ~10 000 messages a second. Fewer than the prefetch stay unacked, so credit never runs
 * out.
 */
const ACK_EVERY = 250;
/** Reading the whole stream back takes this long at most before setup fails and starts over. */
export const CATCH_UP_TIMEOUT_MS = 60_000;

/**
 * A program's reader of `taskqueue.cancels`: on its first connection it reads the stream from
 * its first message (after a reconnect, from where it left off), on a channel of its own, into
 * a CancelSet, and `follow` resolves only once
 * it has read everything the stream held when it was called. The stream says nothing of its
 * length over AMQP 0-9-1 (a stream's declare-ok counts 0 messages), so the reader publishes a
 * mark of its own and waits to read it back: everything before the mark was read by then.
 *
 * A child calls `follow` in its setup before it consumes its worker queue: a task cancelled
 * before the child (re)connected is never handed to the plugin. Cancels read later call
 * `onCancel`, to stop a running task.
 */
export class CancelFeed {
  readonly set = new CancelSet(CANCELS_MAX_AGE_MS);
  #log: Logger;
  #onCancel: (taskId: string) => void;
  /** The stream channel of the current connection. */
  #channel: Channel | undefined;
  #closing = false;
  /**
   * The stream offset after the last message read: a reconnect reads on from there (the set
   * holds what came before), not the whole stream again. Undefined: from the first.
   */
  #nextOffset: number | undefined;

  constructor(log: Logger, onCancel: (taskId: string) => void) {
    this.#log = log;
    this.#onCancel = onCancel;
  }

  /** True when the task of tracked id `taskId` was cancelled (undefined: a task without an id). */
  cancelled(taskId: string | undefined): boolean {
    return taskId !== undefined && this.set.size > 0 && this.set.has(taskId);
  }

  /**
   * Declares the stream on `main`, reads it from the start on a new channel of `model`, and
   * resolves once caught up. If the stream channel closes later on its own, `main` is closed
   * too, so that the connection starts over and reads the stream again: a reader that silently
   * stopped reading would run tasks cancelled meanwhile.
   */
  async follow(
    model: ChannelModel,
    main: ConfirmChannel,
    publisher: ConfirmedPublisher,
  ): Promise<void> {
    await declare(main, cancelsStreamDeclaration());
    const channel = await model.createChannel();
    channel.on('error', () => {});
    this.#channel = channel;
    channel.once('close', () => {
      if (this.#closing || this.#channel !== channel) return;
      this.#log.warn('cancel stream reader closed; reconnecting');
      main.close().catch(() => {});
    });
    const mark = randomUUID();
    let caughtUp!: () => void;
    const seen = new Promise<void>((resolve) => (caughtUp = resolve));
    await channel.prefetch(STREAM_PREFETCH);
    let read = 0;
    await channel.consume(
      CANCELS_STREAM,
      (delivery) => {
        if (!delivery) {
          // Cancelled by the broker (the stream was deleted): start over on a fresh connection,
          // from the first message of whatever stream is there then.
          this.#nextOffset = undefined;
          if (!this.#closing) main.close().catch(() => {});
          return;
        }
        const offset = delivery.properties.headers?.['x-stream-offset'];
        if (typeof offset === 'number' && Number.isSafeInteger(offset))
          this.#nextOffset = offset + 1;
        const message = this.#read(delivery);
        if (message?.kind === 'mark' && message.id === mark) caughtUp();
        else if (message?.kind === 'cancel') this.#add(message);
        if (++read % ACK_EVERY === 0) {
          try {
            channel.ack(delivery, true);
          } catch {
            // Closed: handled by the close listener.
          }
        }
      },
      {
        noAck: false,
        arguments: {
          'x-stream-offset':
            this.#nextOffset === undefined ? 'first' : { '!': 'long', value: this.#nextOffset },
        },
      },
    );
    await publisher.publish(
      '',
      CANCELS_STREAM,
      encodeCancelMessage({ v: 1, kind: 'mark', id: mark, at: new Date().toISOString() }),
      {
        persistent: true,
        contentType: 'application/json',
      },
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TqError(
              'TQ_ERR_AMQP_UNREACHABLE',
              `${CANCELS_STREAM} not read back within ${CATCH_UP_TIMEOUT_MS} ms`,
            ),
          ),
        CATCH_UP_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([seen, late]);
    } catch (err) {
      // Its mark never came: a stream made anew has offsets below the one asked for. The next
      // attempt reads from the first.
      this.#nextOffset = undefined;
      throw err;
    } finally {
      clearTimeout(timer);
    }
    this.#log.info({ cancels: this.set.size, read }, 'cancel stream read');
  }

  /** Before the connection is closed on purpose: its stream channel's close is not a loss. */
  closing(): void {
    this.#closing = true;
  }

  #read(delivery: ConsumeMessage): CancelMessage | undefined {
    try {
      return parseCancelMessage(delivery.content);
    } catch (err) {
      this.#log.warn(
        {
          code: (err as TqError).code,
          err: (err as Error).message,
          offset: delivery.properties.headers?.['x-stream-offset'],
        },
        'cancel stream message skipped',
      );
      return undefined;
    }
  }

  #add(message: Extract<CancelMessage, { kind: 'cancel' }>): void {
    if (this.set.add(message.taskId, Date.parse(message.at))) this.#onCancel(message.taskId);
  }
}

/**
 * Publishes the cancel of `taskId` to the stream on `publisher`'s channel (the stream declared
 * first); resolves once the broker confirmed it.
 */
export async function publishCancel(
  channel: ConfirmChannel,
  publisher: ConfirmedPublisher,
  cancel: { taskId: string; by: string; at?: string },
): Promise<void> {
  await declare(channel, cancelsStreamDeclaration());
  await publisher.publish(
    '',
    CANCELS_STREAM,
    encodeCancelMessage({
      v: 1,
      kind: 'cancel',
      taskId: cancel.taskId,
      at: cancel.at ?? new Date().toISOString(),
      by: cancel.by,
    }),
    { persistent: true, contentType: 'application/json' },
  );
}
