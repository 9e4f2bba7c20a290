/**
 * The test harness itself: useVhost() gives isolated, working vhosts on the run's broker, and a
 * private RabbitNode keeps durable queues and persistent messages across restart().
 */
import { existsSync } from 'node:fs';
import { RabbitNode } from '@taskqueue/dev/rabbitmq-node';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerInfo, useVhost } from '../support/broker.js';

type Conn = Awaited<ReturnType<typeof amqp.connect>>;

const open: Conn[] = [];

async function connect(url: string): Promise<Conn> {
  const conn = await amqp.connect(url);
  // A broker that stops closes the connection with an error; the test checks state instead.
  conn.on('error', () => {});
  open.push(conn);
  return conn;
}

afterAll(async () => {
  await Promise.allSettled(open.map((c) => c.close()));
});

describe('useVhost', () => {
  it('gives each caller an isolated, working vhost', async () => {
    expect(['external', 'docker', 'node']).toContain(brokerInfo().kind);
    const [urlA, urlB] = await Promise.all([useVhost('harness a'), useVhost('harness/b')]);
    expect(urlA).not.toBe(urlB);
    expect(urlA).toMatch(/^amqps?:\/\/.+\/tq-test-harness-a-/);

    const a = await (await connect(urlA)).createConfirmChannel();
    await a.assertQueue('harness', { durable: true });
    a.sendToQueue('harness', Buffer.from('hello from A'), { persistent: true, messageId: 'm1' });
    await a.waitForConfirms();

    const b = await (await connect(urlB)).createChannel();
    // The same queue name in vhost B is another, empty queue.
    const qb = await b.assertQueue('harness', { durable: true });
    expect(qb.messageCount).toBe(0);
    expect(await b.get('harness', { noAck: true })).toBe(false);

    const got = await a.get('harness', { noAck: true });
    expect(got).not.toBe(false);
    if (got === false) return;
    expect(got.content.toString()).toBe('hello from A');
    expect(got.properties.messageId).toBe('m1');
  });
});

describe('RabbitNode', () => {
  let node: RabbitNode | undefined;
  const lines: string[] = [];

  beforeAll(async () => {
    node = await RabbitNode.start({ log: (l) => lines.push(l) });
  });

  afterAll(async () => {
    const dir = node?.dir;
    await node?.destroy();
    if (dir) {
      expect(existsSync(dir)).toBe(false);
    }
  });

  it('keeps durable queues and persistent messages, also unacked ones, across restart()', async () => {
    if (!node) throw new Error('no node');
    const { port, distPort, url, nodeName } = node;
    expect(url).toBe(`amqp://guest:guest@127.0.0.1:${port}`);
    expect(nodeName).toMatch(/^tq-\d+-[0-9a-f]+@localhost$/);

    const vhostUrl = await node.addVhost('restart test/1');
    expect(vhostUrl).toBe(`${url}/restart%20test%2F1`);
    expect(await node.ctl(['-q', 'list_vhosts'])).toContain('restart test/1');

    const conn = await connect(vhostUrl);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('durable', { durable: true });
    ch.sendToQueue('durable', Buffer.from('in flight'), { persistent: true });
    ch.sendToQueue('durable', Buffer.from('kept'), { persistent: true });
    // A transient message does not survive a broker restart: proof that it really restarted.
    ch.sendToQueue('durable', Buffer.from('lost'), { persistent: false });
    await ch.waitForConfirms();
    // One message is "in flight": delivered to a consumer that has not acked it yet.
    const inFlight = await ch.get('durable', { noAck: false });
    expect(inFlight !== false && inFlight.content.toString()).toBe('in flight');

    const pidBefore = node.pid;
    const closed = new Promise((r) => conn.once('close', r));
    await node.restart();
    await closed;
    expect(node.pid).not.toBe(pidBefore);
    expect([node.port, node.distPort, node.url]).toEqual([port, distPort, url]);

    const ch2 = await (await connect(vhostUrl)).createChannel();
    const q = await ch2.checkQueue('durable');
    expect(q.messageCount).toBe(2);
    const bodies: string[] = [];
    for (let i = 0; i < 2; i++) {
      const m = await ch2.get('durable', { noAck: true });
      if (m === false) throw new Error('message missing after restart');
      expect(m.properties.deliveryMode).toBe(2);
      bodies.push(m.content.toString());
    }
    expect(bodies.sort()).toEqual(['in flight', 'kept']);
    expect(lines.some((l) => l.includes('restarted'))).toBe(true);
  });
});
