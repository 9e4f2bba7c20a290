import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { TqError } from '../errors.js';
import { type Headers, ReusableHeaders } from './reusable-headers.js';

interface Pending {
  exchange: string;
  routingKey: string;
  content: Buffer;
  returned: boolean;
  /** The broker closed the channel refusing this message (see #onChannelError). */
  refused: boolean;
}

/** AMQP reply code PRECONDITION_FAILED, and basic.publish's class and method ids. */
const PRECONDITION_FAILED = 406;
const BASIC_PUBLISH = { classId: 60, methodId: 40 };

/**
 * Publishes on a confirm channel and settles each publish on the broker's answer: resolves on
 * ack, rejects on nack (TQ_ERR_AMQP_NACK), on a mandatory return (TQ_ERR_AMQP_UNROUTABLE: no
 * queue would receive it), when the channel closes first (TQ_ERR_AMQP_CHANNEL_CLOSED), when the
 * broker closed the channel refusing this message for good (TQ_ERR_AMQP_REFUSED), or at once
 * when the message cannot be encoded (TQ_ERR_AMQP_ENCODE).
 *
 * One publisher per channel: the broker sends basic.return before the ack of the same message,
 * so a return is matched to the oldest pending publish with the same route and bytes.
 */
export class ConfirmedPublisher {
  #channel: ConfirmChannel;
  #pending = new Set<Pending>();
  #headers = new ReusableHeaders();

  constructor(channel: ConfirmChannel) {
    this.#channel = channel;
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
      const settle = (err: unknown) => {
        this.#pending.delete(pending);
        if (err && pending.refused) {
          reject(
            new TqError(
              'TQ_ERR_AMQP_REFUSED',
              `the broker refused the message of ${content.length} bytes to ${describe(exchange, routingKey)} and closed the channel`,
              { cause: err, details: { exchange, routingKey, bytes: content.length } },
            ),
          );
        } else if (err) {
          const closed = /closed/i.test(String((err as Error)?.message ?? err));
          reject(
            closed
              ? new TqError(
                  'TQ_ERR_AMQP_CHANNEL_CLOSED',
                  'channel closed before the broker confirmed',
                  {
                    cause: err,
                  },
                )
              : new TqError(
                  'TQ_ERR_AMQP_NACK',
                  `broker refused the publish to ${describe(exchange, routingKey)}`,
                  {
                    cause: err,
                  },
                ),
          );
        } else if (pending.returned) {
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
        // a throw other than "channel closed" means nothing was sent and the message itself
        // cannot be sent as it is.
        if (/closed/i.test(String((err as Error)?.message ?? err))) settle(err);
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
    const { code, classId, methodId } = (err ?? {}) as Record<string, unknown>;
    if (code !== PRECONDITION_FAILED) return;
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
