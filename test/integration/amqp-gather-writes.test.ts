import amqp, { type ChannelModel } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { gatherWrites } from '../../src/common/amqp/gather-writes.js';
import { useVhost } from '../support/broker.js';

interface Socket {
  _write: (...args: unknown[]) => void;
  _writev?: (...args: unknown[]) => void;
}

/** Counts the socket writes (each is one syscall at most) a connection makes from now on. */
function countWrites(model: ChannelModel): () => number {
  const socket = (model as unknown as { connection: { stream: Socket } }).connection.stream;
  let writes = 0;
  for (const name of ['_write', '_writev'] as const) {
    const original = socket[name];
    if (!original) continue;
    socket[name] = (...args: unknown[]) => {
      writes++;
      original.apply(socket, args);
    };
  }
  return () => writes;
}

/**
 * gatherWrites against a real RabbitMQ: the frames of one turn of the event loop leave in one
 * socket write, and every message still arrives, in order.
 */
describe('gatherWrites', () => {
  const models: ChannelModel[] = [];
  afterAll(async () => {
    for (const model of models) await model.close().catch(() => {});
  });

  async function burst(gathered: boolean): Promise<{ writes: number; got: number[] }> {
    const url = await useVhost(`gather-${gathered}`);
    const model = await amqp.connect(url, { noDelay: true });
    models.push(model);
    if (gathered) gatherWrites(model);
    const channel = await model.createConfirmChannel();
    await channel.assertQueue('q', { durable: false });
    const writes = countWrites(model);
    for (let i = 0; i < 50; i++) channel.sendToQueue('q', Buffer.from(String(i)));
    await channel.waitForConfirms();
    const sent = writes();
    const got: number[] = [];
    await channel.consume('q', (m) => m && got.push(Number(m.content.toString())), { noAck: true });
    while (got.length < 50) await new Promise((resolve) => setTimeout(resolve, 20));
    return { writes: sent, got };
  }

  it('sends a burst of publishes in fewer socket writes, every message in order', async () => {
    const plain = await burst(false);
    const gathered = await burst(true);
    const inOrder = Array.from({ length: 50 }, (_, i) => i);
    expect(plain.got).toEqual(inOrder);
    expect(gathered.got).toEqual(inOrder);
    // amqplib alone: one write a message; gathered: the turn's 50 in one or a few.
    expect(plain.writes).toBeGreaterThanOrEqual(50);
    expect(gathered.writes).toBeLessThan(10);
  });
});
