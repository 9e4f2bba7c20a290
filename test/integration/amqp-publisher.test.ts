import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfirmedPublisher } from '../../src/common/amqp/publisher.js';
import { ReplyCode, replyCodeOf } from '../../src/common/amqp/reply-codes.js';
import { hasCode } from '../../src/common/errors.js';
import { useVhost } from '../support/broker.js';

/**
 * The publisher's classification against a real RabbitMQ: each outcome is made by the broker
 * itself (a missing exchange, a full queue that rejects publishes, an unroutable mandatory
 * message), and the test asserts the code the publisher gives it. The unit test
 * (test/unit/common/publisher.test.ts) plays the same frames through amqplib without a broker;
 * 406 on an oversized message is covered by worker-huge-result.test.ts on a private node.
 */
describe('ConfirmedPublisher against the broker', () => {
  let connection: ChannelModel;
  const body = Buffer.from('{"fields":{}}');

  beforeAll(async () => {
    connection = await amqp.connect(await useVhost('publisher'), { noDelay: true });
    connection.on('error', () => {});
  });

  afterAll(async () => {
    await connection?.close().catch(() => {});
  });

  /** A fresh confirm channel and its publisher; `closes` hears the close error, if any. */
  async function open(): Promise<{
    channel: ConfirmChannel;
    publisher: ConfirmedPublisher;
    closes: unknown[];
  }> {
    const channel = await connection.createConfirmChannel();
    const closes: unknown[] = [];
    channel.on('error', (err: unknown) => closes.push(err));
    return { channel, publisher: new ConfirmedPublisher(channel), closes };
  }

  it('resolves once the broker confirmed a routable message', async () => {
    const { channel, publisher } = await open();
    await channel.assertQueue('pub-ok', { durable: false });
    await expect(publisher.publish('', 'pub-ok', body, {})).resolves.toBeUndefined();
    expect((await channel.checkQueue('pub-ok')).messageCount).toBe(1);
    await channel.close();
  });

  it('a mandatory message no queue receives is TQ_ERR_AMQP_UNROUTABLE', async () => {
    const { channel, publisher } = await open();
    const err = await publisher.publish('', 'pub-no-such-queue', body, {}).catch((e) => e);
    expect(hasCode(err, 'TQ_ERR_AMQP_UNROUTABLE')).toBe(true);
    await channel.close();
  });

  it('a missing exchange: the broker closes the channel with 404, classified as closed', async () => {
    const { publisher, closes } = await open();
    const err = await publisher.publish('pub-no-such-exchange', 'k', body, {}).catch((e) => e);
    expect(hasCode(err, 'TQ_ERR_AMQP_CHANNEL_CLOSED')).toBe(true);
    // Neither a nack nor a refusal of the message for good: the close carries NOT_FOUND.
    expect(closes.map(replyCodeOf)).toEqual([ReplyCode.NOT_FOUND]);
    // And the channel is gone: amqplib throws IllegalOperationError, classified the same way.
    const again = await publisher.publish('', 'pub-ok', body, {}).catch((e) => e);
    expect(hasCode(again, 'TQ_ERR_AMQP_CHANNEL_CLOSED')).toBe(true);
    expect((again as Error).cause).toMatchObject({ name: 'IllegalOperationError' });
  });

  it('a full queue with overflow reject-publish: the broker nacks, TQ_ERR_AMQP_NACK', async () => {
    const { channel, publisher, closes } = await open();
    await channel.assertQueue('pub-full', {
      durable: false,
      arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' },
    });
    await publisher.publish('', 'pub-full', body, {});
    const err = await publisher.publish('', 'pub-full', body, {}).catch((e) => e);
    expect(hasCode(err, 'TQ_ERR_AMQP_NACK')).toBe(true);
    // A nack leaves the channel open: the next publish elsewhere is confirmed.
    expect(closes).toEqual([]);
    await channel.assertQueue('pub-after-nack', { durable: false });
    await expect(publisher.publish('', 'pub-after-nack', body, {})).resolves.toBeUndefined();
    await channel.close();
  });

  it('a header amqplib cannot encode is TQ_ERR_AMQP_ENCODE; nothing reaches the broker', async () => {
    const { channel, publisher, closes } = await open();
    await channel.assertQueue('pub-encode', { durable: false });
    const err = await publisher
      .publish('', 'pub-encode', body, { headers: { 'x-small': { '!': 'byte', value: 1000 } } })
      .catch((e) => e);
    expect(hasCode(err, 'TQ_ERR_AMQP_ENCODE')).toBe(true);
    expect(closes).toEqual([]);
    await expect(publisher.publish('', 'pub-encode', body, {})).resolves.toBeUndefined();
    expect((await channel.checkQueue('pub-encode')).messageCount).toBe(1);
    await channel.close();
  });
});
