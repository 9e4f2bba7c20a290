import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { TqError } from '../errors.js';
import { type Headers, ReusableHeaders } from './reusable-headers.js';

interface Pending {
  exchange: string;
  routingKey: string;
  content: Buffer;
  returned: boolean;
}

/**
 * Publishes on a confirm channel and settles each publish on the broker's answer: resolves on
 * ack, rejects on nack (TQ_ERR_AMQP_NACK), on a mandatory return (TQ_ERR_AMQP_UNROUTABLE: no
 * queue would receive it), when the channel closes first (TQ_ERR_AMQP_CHANNEL_CLOSED), or at
 * once when the message cannot be encoded (TQ_ERR_AMQP_ENCODE).
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
    const pending: Pending = { exchange, routingKey, content, returned: false };
    this.#pending.add(pending);
    return new Promise<void>((resolve, reject) => {
      const settle = (err: unknown) => {
        this.#pending.delete(pending);
        if (err) {
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
