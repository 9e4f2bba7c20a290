import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { TqError } from '../errors.js';
import { BASIC_PUBLISH, isIllegalOperation, ReplyCode, replyCodeOf } from './reply-codes.js';
import { type Headers, ReusableHeaders } from './reusable-headers.js';

interface Pending {
  exchange: string;
  routingKey: string;
  content: Buffer;
  returned: boolean;
  /** The broker closed the channel refusing this message (see #onChannelError). */
  refused: boolean;
}

/**
 * Publishes on a confirm channel and settles each publish on the broker's answer: resolves on
 * ack, rejects on nack (TQ_ERR_AMQP_NACK), on a mandatory return (TQ_ERR_AMQP_UNROUTABLE: no
 * queue would receive it), when the channel closes first (TQ_ERR_AMQP_CHANNEL_CLOSED), when the
 * broker closed the channel refusing this message for good (TQ_ERR_AMQP_REFUSED), or at once
 * when the message cannot be encoded (TQ_ERR_AMQP_ENCODE).
 *
 * Classified by what happened, never by amqplib's or the broker's text: amqplib hands a confirm
 * callback the same plain Error class for a nack and for a close, so the channel's `close` event
 * (heard before amqplib fails the callbacks with it) tells them apart; the reply code and method
 * of the close (reply-codes.ts) tell a refusal; a synchronous throw is a closed or closing channel
 * or connection when it is amqplib's IllegalOperationError, and an encoding failure otherwise.
 *
 * One publisher per channel: the broker sends basic.return before the ack of the same message,
 * so a return is matched to the oldest pending publish with the same route and bytes.
 */
export class ConfirmedPublisher {
  #channel: ConfirmChannel;
  #pending = new Set<Pending>();
  #headers = new ReusableHeaders();
  /** The channel emitted `close`: every confirm callback from now on is a close, not a nack. */
  #closed = false;

  constructor(channel: ConfirmChannel) {
    this.#channel = channel;
    // Prepended: amqplib fails the unconfirmed callbacks from its own `close` listener, which
    // was added when the channel was made; this one must run first.
    channel.prependListener('close', () => {
      this.#closed = true;
    });
    channel.on('return', (message: ConsumeMessage) => this.#onReturn(message));
    channel.on('error', (err: unknown) => this.#onChannelError(err));
  }

  /**
   * Publishes `content`, mandatory unless `options.mandatory` is false; resolves once the
   * broker confirmed it.
   */
  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish,
  ): Promise<void> {
    const pending: Pending = { exchange, routingKey, content, returned: false, refused: false };
    this.#pending.add(pending);
    return new Promise<void>((resolve, reject) => {
      const fail = (err: unknown, closed: boolean) => {
        this.#pending.delete(pending);
        if (pending.refused) {
          reject(
            new TqError(
              'TQ_ERR_AMQP_REFUSED',
              `the broker refused the message of ${content.length} bytes to ${describe(exchange, routingKey)} and closed the channel`,
              { cause: err, details: { exchange, routingKey, bytes: content.length } },
            ),
          );
        } else if (closed) {
          reject(
            new TqError(
              'TQ_ERR_AMQP_CHANNEL_CLOSED',
              'channel closed before the broker confirmed',
              {
                cause: err,
              },
            ),
          );
        } else {
          reject(
            new TqError(
              'TQ_ERR_AMQP_NACK',
              `broker refused the publish to ${describe(exchange, routingKey)}`,
              { cause: err },
            ),
          );
        }
      };
      // amqplib calls this with null on ack, and with an Error on nack or on close.
      const settle = (err: unknown) => {
        if (err) {
          fail(err, this.#closed);
          return;
        }
        this.#pending.delete(pending);
        if (pending.returned) {
          reject(
            new TqError(
              'TQ_ERR_AMQP_UNROUTABLE',
              `no queue receives ${describe(exchange, routingKey)}`,
              {
                details: { exchange, routingKey },
              },
            ),
          );
        } else {
          resolve();
        }
      };
      try {
        const send = (headers?: Headers) =>
          this.#channel.publish(
            exchange,
            routingKey,
            content,
            { mandatory: true, ...options, headers },
            settle,
          );
        // A fresh headers object per message costs V8 a prototype map (reusable-headers.ts).
        if (options.headers) this.#headers.lend(options.headers, send);
        else send();
      } catch (err) {
        // amqplib encodes the whole frame before it writes or registers the confirm callback:
        // a throw is either the channel or connection closing or closed (IllegalOperationError),
        // or the message itself that cannot be sent as it is; in both, nothing was sent.
        if (isIllegalOperation(err)) fail(err, true);
        else {
          this.#pending.delete(pending);
          reject(
            new TqError(
              'TQ_ERR_AMQP_ENCODE',
              `cannot encode the message for ${describe(exchange, routingKey)}: ${(err as Error)?.message ?? err}`,
              { cause: err },
            ),
          );
        }
      }
    });
  }

  /**
   * The broker closes the channel with 406 on basic.publish when it refuses a message for good
   * (above its max_message_size, for one): sending the same bytes again is refused again. The
   * close does not say which unconfirmed publish it was: the largest one pending is taken, the
   * one a size limit refuses; the others fail as closed, and are sent again after a reconnect.
   * Classified by reply code and method, not by the broker's text.
   */
  #onChannelError(err: unknown): void {
    if (replyCodeOf(err) !== ReplyCode.PRECONDITION_FAILED) return;
    const { classId, methodId } = (err ?? {}) as Record<string, unknown>;
    if (classId !== BASIC_PUBLISH.classId || methodId !== BASIC_PUBLISH.methodId) return;
    let largest: Pending | undefined;
    for (const pending of this.#pending)
      if (!largest || pending.content.length > largest.content.length) largest = pending;
    if (largest) largest.refused = true;
  }

  #onReturn(message: ConsumeMessage): void {
    const { exchange, routingKey } = message.fields;
    for (const pending of this.#pending) {
      if (
        !pending.returned &&
        pending.exchange === exchange &&
        pending.routingKey === routingKey &&
        pending.content.equals(message.content)
      ) {
        pending.returned = true;
        return;
      }
    }
  }
}

function describe(exchange: string, routingKey: string): string {
  return exchange === '' ? `queue "${routingKey}"` : `exchange "${exchange}" key "${routingKey}"`;
}
