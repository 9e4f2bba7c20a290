import type { ConsumeMessage } from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  bindDelayDestination,
  declareDelayLadder,
  deliverPattern,
  publishDelayed,
} from '../../src/common/amqp/delay.js';
import {
  DELAY_DELIVER_EXCHANGE,
  DELAY_UNROUTED_EXCHANGE,
} from '../../src/common/amqp/delay-names.js';
import { ConfirmedPublisher } from '../../src/common/amqp/publisher.js';
import { workerQueue } from '../../src/common/amqp/queues.js';
import { NOT_BEFORE_HEADER } from '../../src/common/amqp/wire.js';
import type { QueueType } from '../../src/common/config/types.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import {
  type Program,
  startDispatcher,
  startPool,
  testConfig,
  writeConfig,
} from '../support/programs.js';

/** Consumes `queue`, stamping each message with the time it arrived here. */
async function arrivals(
  client: TestClient,
  queue: string,
  count: number,
  timeoutMs: number,
): Promise<Array<{ message: ConsumeMessage; at: number }>> {
  const got: Array<{ message: ConsumeMessage; at: number }> = [];
  let tag = '';
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    void client.channel
      .consume(queue, (message) => {
        if (!message) return;
        got.push({ message, at: Date.now() });
        client.channel.ack(message);
        if (got.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      })
      .then((reply) => {
        tag = reply.consumerTag;
      });
  });
  if (tag) await client.channel.cancel(tag);
  return got;
}

describe.each(['classic', 'quorum'] as QueueType[])(
  'the delay ladder on the broker (%s)',
  (queueType) => {
    let client: TestClient;

    beforeAll(async () => {
      client = await TestClient.connect(await useVhost(`delay-ladder-${queueType}`));
      // Twice: declaring the ladder again changes nothing (every program does it on connect).
      await declareDelayLadder(client.channel, queueType);
      await declareDelayLadder(client.channel, queueType);
    });
    afterAll(async () => {
      await client?.close();
    });

    it('holds each task its delay through exchange-to-exchange bindings and TTL levels, never less', async () => {
      const dest = 'test.dest';
      await client.channel.assertQueue(dest, { durable: true });
      await bindDelayDestination(client.channel, dest);
      const publisher = new ConfirmedPublisher(client.channel);
      const delays = [0, 150, 400, 1000, 1700, 2300, 3100];
      const start = Date.now();
      const due = new Map<string, number>();
      await Promise.all(
        delays.map((delay) => {
          const id = `d-${delay}`;
          const dueMs = start + delay;
          due.set(id, dueMs);
          // An expiration of 1 ms would let a task out of the first level at once: it is dropped.
          const options = { messageId: id, persistent: true, expiration: '1' };
          return publishDelayed(publisher, Buffer.from(id), options, dest, dueMs, start);
        }),
      );
      const got = await arrivals(client, dest, delays.length, 30_000);
      expect(got.map((g) => g.message.properties.messageId).sort()).toEqual([...due.keys()].sort());
      for (const { message, at } of got) {
        const id = message.properties.messageId as string;
        expect(at, id).toBeGreaterThanOrEqual(due.get(id) as number);
        expect(message.properties.expiration, id).toBeUndefined();
        expect(message.properties.headers?.[NOT_BEFORE_HEADER]).toBe(
          new Date(due.get(id) as number).toISOString(),
        );
      }
    });

    it('sends a task whose destination has no binding to the unrouted exchange, not to nowhere', async () => {
      const unrouted = 'test.unrouted';
      await client.channel.assertQueue(unrouted, { durable: true });
      await client.channel.bindQueue(unrouted, DELAY_UNROUTED_EXCHANGE, '');
      await client.channel.assertQueue('test.unbound', { durable: true });
      const publisher = new ConfirmedPublisher(client.channel);
      const start = Date.now();
      await publishDelayed(
        publisher,
        Buffer.from('lost?'),
        { messageId: 'u-1' },
        'test.unbound',
        start + 500,
        start,
      );
      const [got] = await arrivals(client, unrouted, 1, 20_000);
      expect(got?.message.properties.messageId).toBe('u-1');
      expect(got?.at).toBeGreaterThanOrEqual(start + 500);
      expect(got?.message.fields.exchange).toBe(DELAY_DELIVER_EXCHANGE);
      expect(await client.messageCount('test.unbound')).toBe(0);
    });
  },
);

describe('delayed tasks through the dispatcher and a pool', () => {
  const TYPE = 'stamp';
  let client: TestClient;
  let url: string;
  const cleanups: Array<() => unknown> = [];

  beforeAll(async () => {
    url = await useVhost('delay-ladder-programs');
    client = await TestClient.connect(url);
    await client.declare('taskqueue');
    await client.declare('results');
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await client?.close();
  });

  function program(start: (file: string) => Program): Program {
    const config = writeConfig(testConfig(url, [TYPE], `[${TYPE}]\nworkers = 2\n`));
    const p = start(config.file);
    cleanups.push(async () => {
      await p.stop();
      config.cleanup();
    });
    return p;
  }

  const startedAt = (m: ConsumeMessage) => JSON.parse(m.content.toString()).fields.started_at;

  it('starts each task no earlier than its not-before, whichever way it came', async () => {
    const dispatcher = program(startDispatcher);
    const pool = program(startPool);
    await pool.waitForRunning(TYPE, 2);
    await dispatcher.waitFor(/dispatcher consuming/);
    const now = Date.now();
    const due = new Map<string, number>();
    // Through the input queue, the way submitters send them.
    for (const delay of [0, 300, 1200, 2500, 4000]) {
      const id = `in-${delay}`;
      due.set(id, now + delay);
      await client.publish('taskqueue', workitem(TYPE), {
        correlationId: id,
        headers: { [NOT_BEFORE_HEADER]: new Date(now + delay).toISOString() },
      });
    }
    // An AMQP expiration far ahead: it becomes the deadline and the task still waits its time.
    due.set('in-ttl', now + 1500);
    await client.publish('taskqueue', workitem(TYPE), {
      correlationId: 'in-ttl',
      expiration: '600000',
      headers: { [NOT_BEFORE_HEADER]: new Date(now + 1500).toISOString() },
    });
    // Straight to worker_<type>, past the dispatcher: the child sends it back for the rest.
    due.set('direct', now + 3000);
    await client.publish(workerQueue(TYPE), workitem(TYPE), {
      correlationId: 'direct',
      headers: { [NOT_BEFORE_HEADER]: new Date(now + 3000).toISOString() },
    });
    const results = await client.collect('results', due.size, 60_000);
    expect(results.map((m) => m.properties.correlationId).sort()).toEqual([...due.keys()].sort());
    for (const result of results) {
      const id = result.properties.correlationId as string;
      expect(startedAt(result), id).toBeGreaterThanOrEqual(due.get(id) as number);
      expect(JSON.parse(result.content.toString()).error, id).toBeUndefined();
    }
    expect(pool.logs().some((l) => l.msg === 'task early; delayed again')).toBe(true);
  });

  it('brings a task whose destination lost its binding back through the dispatcher', async () => {
    const dispatcher = program(startDispatcher);
    const pool = program(startPool);
    await pool.waitForRunning(TYPE, 2);
    await dispatcher.waitFor(/dispatcher consuming/);
    const queue = workerQueue(TYPE);
    await client.channel.unbindQueue(queue, DELAY_DELIVER_EXCHANGE, deliverPattern(queue));
    const publisher = new ConfirmedPublisher(client.channel);
    const start = Date.now();
    const content = Buffer.from(workitem(TYPE));
    const options = { correlationId: 'rebound', messageId: 'rebound', persistent: true };
    await publishDelayed(publisher, content, options, queue, start + 800, start);
    const [result] = await client.collect('results', 1, 30_000);
    expect(result?.properties.correlationId).toBe('rebound');
    expect(startedAt(result as ConsumeMessage)).toBeGreaterThanOrEqual(start + 800);
    await expect
      .poll(() =>
        dispatcher.logs().some((l) => l.msg === 'task forwarded' && l.messageId === 'rebound'),
      )
      .toBe(true);
  });
});
