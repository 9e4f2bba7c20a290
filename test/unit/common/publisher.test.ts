import { describe, expect, it } from 'vitest';
import { ConfirmedPublisher } from '../../../src/common/amqp/publisher.js';
import { BASIC_PUBLISH, ReplyCode } from '../../../src/common/amqp/reply-codes.js';
import { hasCode } from '../../../src/common/errors.js';
import { wiredChannel } from './amqplib-channel.js';

/**
 * The publisher's classification, driven through amqplib's real channel: amqplib decides what
 * the confirm callbacks get and what `publish` throws; the test plays only the broker's frames.
 * The same against a real broker: test/integration/amqp-publisher.test.ts.
 */
describe('ConfirmedPublisher classifies by event, reply code and error class', () => {
  const body = Buffer.from('{}');

  it('resolves on ack', async () => {
    const wired = wiredChannel();
    const sent = new ConfirmedPublisher(wired.channel).publish('', 'q', body, {});
    wired.confirm('ack', 1);
    await expect(sent).resolves.toBeUndefined();
  });

  it('a nack is TQ_ERR_AMQP_NACK', async () => {
    const wired = wiredChannel();
    const sent = new ConfirmedPublisher(wired.channel).publish('', 'q', body, {});
    wired.confirm('nack', 1);
    const err = await sent.catch((e: unknown) => e);
    expect(hasCode(err, 'TQ_ERR_AMQP_NACK')).toBe(true);
  });

  it('a close before the confirm is TQ_ERR_AMQP_CHANNEL_CLOSED, whatever its code', async () => {
    const wired = wiredChannel();
    const sent = new ConfirmedPublisher(wired.channel).publish('nowhere', 'q', body, {});
    wired.serverClose(ReplyCode.NOT_FOUND, BASIC_PUBLISH.classId, BASIC_PUBLISH.methodId);
    const err = await sent.catch((e: unknown) => e);
    expect(hasCode(err, 'TQ_ERR_AMQP_CHANNEL_CLOSED')).toBe(true);
  });

  it('406 on basic.publish is TQ_ERR_AMQP_REFUSED for the largest pending message', async () => {
    const wired = wiredChannel();
    const publisher = new ConfirmedPublisher(wired.channel);
    const small = publisher.publish('', 'q', body, {}).catch((e: unknown) => e);
    const large = publisher.publish('', 'q', Buffer.alloc(10_000), {}).catch((e: unknown) => e);
    wired.serverClose(ReplyCode.PRECONDITION_FAILED, BASIC_PUBLISH.classId, BASIC_PUBLISH.methodId);
    expect(hasCode(await large, 'TQ_ERR_AMQP_REFUSED')).toBe(true);
    expect(hasCode(await small, 'TQ_ERR_AMQP_CHANNEL_CLOSED')).toBe(true);
  });

  it('406 on another method (a declare) is no refusal of a message', async () => {
    const wired = wiredChannel();
    const sent = new ConfirmedPublisher(wired.channel).publish('', 'q', body, {});
    wired.serverClose(ReplyCode.PRECONDITION_FAILED, 50, 10); // queue.declare
    const err = await sent.catch((e: unknown) => e);
    expect(hasCode(err, 'TQ_ERR_AMQP_CHANNEL_CLOSED')).toBe(true);
  });

  it('a publish on a closed channel (IllegalOperationError) is TQ_ERR_AMQP_CHANNEL_CLOSED', async () => {
    const wired = wiredChannel();
    const publisher = new ConfirmedPublisher(wired.channel);
    wired.serverClose(ReplyCode.NOT_FOUND);
    const err = await publisher.publish('', 'q', body, {}).catch((e: unknown) => e);
    expect(hasCode(err, 'TQ_ERR_AMQP_CHANNEL_CLOSED')).toBe(true);
    expect((err as Error).cause).toMatchObject({ name: 'IllegalOperationError' });
  });

  it('a message amqplib cannot encode is TQ_ERR_AMQP_ENCODE, and nothing is written', async () => {
    const wired = wiredChannel();
    const publisher = new ConfirmedPublisher(wired.channel);
    const err = await publisher
      .publish('', 'q', body, { headers: { 'x-small': { '!': 'byte', value: 1000 } } })
      .catch((e: unknown) => e);
    expect(hasCode(err, 'TQ_ERR_AMQP_ENCODE')).toBe(true);
    expect(wired.frames).toEqual([]);
    // The channel is still usable: the next message goes out and is confirmed.
    const next = publisher.publish('', 'q', body, {});
    wired.confirm('ack', 1);
    await expect(next).resolves.toBeUndefined();
  });
});
