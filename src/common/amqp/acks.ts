import type { Channel, Message } from 'amqplib';

/**
 * Acks one channel's deliveries in batches: the acks made while one batch of the broker's
 * confirms is handled (one socket read, with the promise continuations it wakes) go out
 * together, as a single `multiple` ack up to the oldest delivery still in hand, plus single acks
 * for any settled after it: one frame for the broker to read instead of one per task.
 *
 * The flush is a `process.nextTick` queued by the first ack: it runs once the microtasks of that
 * read are drained, before the process reads anything else. A wider batch (`setImmediate`, a
 * timer) would leave acks unsent across other reads: the tasks of a process killed in that
 * window come back as duplicates.
 *
 * Safe by construction: a `multiple` ack never reaches past a delivery still in hand, because
 * every delivery is registered (`received`) before it can be settled, and the tag of a
 * `multiple` ack is always below the oldest one registered and not settled.
 *
 * Every ack and nack of the channel's deliveries must go through here. `flush()` before the
 * channel is closed on purpose; on a channel that closed by itself, the broker has taken the
 * deliveries back anyway.
 */
export class AckBatcher {
  #channel: Channel;
  /** Delivery tags received and neither acked nor nacked yet, ascending (tags only grow). */
  #inHand = new Set<number>();
  #toAck: number[] = [];
  #scheduled = false;

  constructor(channel: Channel) {
    this.#channel = channel;
  }

  received(message: Message): void {
    this.#inHand.add(message.fields.deliveryTag);
  }

  /** Acks `message` with the others settled while this socket read is handled. */
  ack(message: Message): void {
    this.#toAck.push(message.fields.deliveryTag);
    if (this.#scheduled) return;
    this.#scheduled = true;
    process.nextTick(() => this.flush());
  }

  /** Nacks at once (rare: a refusal, a hand-back); throws when the channel is closed. */
  nack(message: Message, requeue: boolean): void {
    this.#inHand.delete(message.fields.deliveryTag);
    this.#channel.nack(message, false, requeue);
  }

  /** Sends the acks waiting now. */
  flush(): void {
    this.#scheduled = false;
    if (this.#toAck.length === 0) return;
    const tags = this.#toAck.sort((a, b) => a - b);
    this.#toAck = [];
    for (const tag of tags) this.#inHand.delete(tag);
    // A Set iterates in insertion order, and tags only grow: the first is the oldest.
    const oldestInHand = this.#inHand.values().next().value ?? Number.POSITIVE_INFINITY;
    let below = 0;
    while (below < tags.length && tags[below]! < oldestInHand) below++;
    try {
      if (below > 0) this.#ackTag(tags[below - 1]!, below > 1);
      for (let i = below; i < tags.length; i++) this.#ackTag(tags[i]!, false);
    } catch {
      // The channel closed: the broker took its deliveries back, to be redelivered.
    }
  }

  #ackTag(tag: number, multiple: boolean): void {
    // amqplib acks by delivery tag; a message-shaped object is all it reads.
    this.#channel.ack({ fields: { deliveryTag: tag } } as Message, multiple);
  }
}
