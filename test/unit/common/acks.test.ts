import type { Channel, Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { AckBatcher } from '../../../src/common/amqp/acks.js';

/** The acks and nacks a channel was asked to send, as [kind, tag, multiple or requeue]. */
function recordingChannel(closed = false) {
  const sent: Array<[string, number, boolean]> = [];
  const channel = {
    ack(message: Message, multiple = false) {
      if (closed) throw new Error('Channel closed');
      sent.push(['ack', message.fields.deliveryTag, multiple]);
    },
    nack(message: Message, _all = false, requeue = true) {
      if (closed) throw new Error('Channel closed');
      sent.push(['nack', message.fields.deliveryTag, requeue]);
    },
  } as unknown as Channel;
  return { channel, sent };
}

const delivery = (tag: number) => ({ fields: { deliveryTag: tag } }) as Message;
const turn = () => new Promise((resolve) => setImmediate(resolve));
const tick = () => new Promise((resolve) => process.nextTick(resolve));

describe('AckBatcher', () => {
  it('sends the acks of one batch of continuations as one multiple ack, before the next turn', async () => {
    const { channel, sent } = recordingChannel();
    const acks = new AckBatcher(channel);
    for (const tag of [1, 2, 3]) acks.received(delivery(tag));
    const settled = [1, 2, 3].map((tag) =>
      Promise.resolve()
        .then(() => undefined)
        .then(() => acks.ack(delivery(tag))),
    );
    await Promise.all(settled);
    expect(sent).toEqual([]);
    await tick();
    expect(sent).toEqual([['ack', 3, true]]);
  });

  it('never reaches past a delivery still in hand', async () => {
    const { channel, sent } = recordingChannel();
    const acks = new AckBatcher(channel);
    for (const tag of [1, 2, 3, 4, 5]) acks.received(delivery(tag));
    acks.ack(delivery(1));
    acks.ack(delivery(2));
    acks.ack(delivery(4));
    await turn();
    expect(sent).toEqual([
      ['ack', 2, true],
      ['ack', 4, false],
    ]);
    acks.ack(delivery(5));
    await turn();
    expect(sent.slice(2)).toEqual([['ack', 5, false]]); // 3 is still in hand
    acks.ack(delivery(3));
    acks.flush();
    expect(sent.slice(3)).toEqual([['ack', 3, false]]);
  });

  it('nacks at once, and a nacked delivery no longer holds the others back', async () => {
    const { channel, sent } = recordingChannel();
    const acks = new AckBatcher(channel);
    for (const tag of [1, 2, 3]) acks.received(delivery(tag));
    acks.nack(delivery(1), true);
    expect(sent).toEqual([['nack', 1, true]]);
    acks.ack(delivery(2));
    acks.ack(delivery(3));
    await turn();
    expect(sent.slice(1)).toEqual([['ack', 3, true]]);
  });

  it('sends one ack alone as a plain ack, and flushes on demand', () => {
    const { channel, sent } = recordingChannel();
    const acks = new AckBatcher(channel);
    acks.received(delivery(7));
    acks.ack(delivery(7));
    acks.flush();
    acks.flush();
    expect(sent).toEqual([['ack', 7, false]]);
  });

  it('drops the acks of a closed channel quietly (the broker took the deliveries back)', () => {
    const { channel } = recordingChannel(true);
    const acks = new AckBatcher(channel);
    acks.received(delivery(1));
    acks.ack(delivery(1));
    expect(() => acks.flush()).not.toThrow();
    expect(() => acks.nack(delivery(2), true)).toThrow('Channel closed');
  });
});
