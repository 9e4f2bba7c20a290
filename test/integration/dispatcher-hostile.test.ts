import { rabbitmqctl } from '@taskqueue/dev/rabbitmq-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELAY_LEVELS } from '../../src/common/amqp/delay-names.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import { brokerInfo, useVhost } from '../support/broker.js';
import { type Program, startDispatcher, testConfig, writeConfig } from '../support/programs.js';

/**
 * A foreign client (plain amqplib) sends what a hostile sender would; the dispatcher must park
 * it with a reason and a code, and keep forwarding the tasks behind it.
 */

const CODE = 'x-taskqueue-error-code';
const REASON = 'x-taskqueue-error';

/** A dispatcher on a vhost of its own, with `dispatcherKeys` in its [dispatcher] section. */
function useDispatcher(label: string, dispatcherKeys: string, amqpKeys = '') {
  const ctx = {} as {
    url: string;
    client: TestClient;
    dispatcher: Program;
    config: ReturnType<typeof writeConfig>;
    /** Starts the dispatcher (after the test published what it wants waiting). */
    start: () => Promise<void>;
  };
  beforeAll(async () => {
    ctx.url = await useVhost(label);
    let text = testConfig(ctx.url, ['echo'], `[dispatcher]\n${dispatcherKeys}\n`);
    if (amqpKeys) text = text.replace('[amqp]\n', `[amqp]\n${amqpKeys}\n`);
    ctx.config = writeConfig(text);
    ctx.client = await TestClient.connect(ctx.url);
    ctx.start = async () => {
      ctx.dispatcher = startDispatcher(ctx.config.file);
      await ctx.dispatcher.waitFor(/dispatcher consuming/);
    };
  });
  afterAll(async () => {
    await ctx.client?.close();
    await ctx.dispatcher?.stop();
    ctx.config?.cleanup();
  });
  return ctx;
}

/** True when `queue` exists on the client's vhost. */
async function queueExists(client: TestClient, queue: string): Promise<boolean> {
  return client.messageCount(queue).then(
    () => true,
    () => false,
  );
}

describe('worker types that name the system queues', () => {
  const ctx = useDispatcher('reserved', '');
  beforeAll(() => ctx.start());

  it('parks them with the rule, declares no such queue, and forwards the task behind', async () => {
    await ctx.client.publish('taskqueue', '{"worker_type":"flaky.retry.2000ms"}', {
      messageId: 'retry',
    });
    await ctx.client.publish('taskqueue', workitem('flaky.dead'), { messageId: 'dead' });
    await ctx.client.publish('taskqueue', 'x.Invalid hello', {
      messageId: 'invalid',
      contentType: 'text/plain',
    });
    await ctx.client.publish('taskqueue', workitem('flaky'), { messageId: 'good' });

    const parked = await ctx.client.collect('taskqueue.invalid', 3, 30_000);
    expect(parked.map((m) => m.properties.messageId).sort()).toEqual(['dead', 'invalid', 'retry']);
    for (const message of parked) {
      expect(message.properties.headers?.[CODE]).toBe('TQ_ERR_TASK_INVALID');
      expect(String(message.properties.headers?.[REASON])).toMatch(/reserved segment/);
    }
    const [good] = await ctx.client.collect('worker_flaky', 1, 30_000);
    expect(good?.properties.messageId).toBe('good');
    for (const queue of ['worker_flaky.retry.2000ms', 'worker_flaky.dead', 'worker_x.Invalid']) {
      expect(await queueExists(ctx.client, queue), queue).toBe(false);
    }
  });
});

describe('large bodies', () => {
  const ctx = useDispatcher('large', 'max_body_size = 1M', 'heartbeat = 2');
  beforeAll(() => ctx.start());

  it('parks a body above max_body_size unread, and forwards one just below it', async () => {
    const padded = (size: number) => {
      const head = '{"fields":{"params":{"worker_type":"big"}},"pad":"';
      return Buffer.from(`${head}${'a'.repeat(size - head.length - 2)}"}`);
    };
    const above = padded(1024 * 1024 + 1);
    const below = padded(1024 * 1024);
    await ctx.client.publish('taskqueue', above, { messageId: 'above' });
    await ctx.client.publish('taskqueue', below, { messageId: 'below' });

    const [parked] = await ctx.client.collect('taskqueue.invalid', 1, 30_000);
    expect(parked?.properties.messageId).toBe('above');
    expect(parked?.properties.headers?.[CODE]).toBe('TQ_ERR_TASK_TOO_LARGE');
    expect(parked?.content.equals(above)).toBe(true);
    const [forwarded] = await ctx.client.collect('worker_big', 1, 30_000);
    expect(forwarded?.properties.messageId).toBe('below');
    expect(forwarded?.content.equals(below)).toBe(true);
    const logged = ctx.dispatcher.logs().find((l) => l.msg === 'invalid task parked');
    expect(logged?.code).toBe('TQ_ERR_TASK_TOO_LARGE');
  });
});

describe('a body that is slow to parse', () => {
  // A 2 s heartbeat: JSON.parse of this body took 7.5 s, long enough for the broker to close the
  // connection, redeliver the body, and start over, forever.
  const ctx = useDispatcher('wedge', '', 'heartbeat = 2');
  beforeAll(() => ctx.start());

  it('is parked once, and the task behind it passes', async () => {
    const wedge = Buffer.from(`[${'{},'.repeat(5_592_404)}{}]`);
    expect(wedge.length).toBeLessThanOrEqual(16 * 1024 * 1024); // below the default max_body_size
    await ctx.client.publish('taskqueue', wedge, { messageId: 'wedge' });
    await ctx.client.publish('taskqueue', workitem('after'), { messageId: 'after' });

    const [forwarded] = await ctx.client.collect('worker_after', 1, 60_000);
    expect(forwarded?.properties.messageId).toBe('after');
    const [parked] = await ctx.client.collect('taskqueue.invalid', 1, 30_000);
    expect(parked?.properties.messageId).toBe('wedge');
    expect(String(parked?.properties.headers?.[REASON])).toMatch(/not an object \(array\)/);
    expect(ctx.dispatcher.logs().filter((l) => l.msg === 'dispatcher consuming')).toHaveLength(1);
  });
});

describe('junk types', () => {
  const ctx = useDispatcher('types', 'types = echo, fine');
  beforeAll(() => ctx.start());

  it('parks the types not in [dispatcher] types and declares no queue for them', async () => {
    for (let n = 0; n < 300; n++) {
      await ctx.client.publish('taskqueue', workitem(`junk-${n}`), { messageId: `junk-${n}` });
    }
    await ctx.client.publish('taskqueue', workitem('fine'), { messageId: 'fine' });

    const parked = await ctx.client.collect('taskqueue.invalid', 300, 60_000);
    expect(parked).toHaveLength(300);
    for (const message of parked) {
      expect(message.properties.headers?.[CODE]).toBe('TQ_ERR_TASK_TYPE_NOT_ALLOWED');
    }
    const [fine] = await ctx.client.collect('worker_fine', 1, 30_000);
    expect(fine?.properties.messageId).toBe('fine');
    for (const n of [0, 1, 150, 299]) {
      expect(await queueExists(ctx.client, `worker_junk-${n}`)).toBe(false);
    }
  });
});

describe('bytes in flight', () => {
  const MiB = 1024 * 1024;
  const ctx = useDispatcher('budget', 'max_bytes_in_flight = 3M\nprefetch = 100');

  it('never holds more than max_bytes_in_flight, and forwards every task', async () => {
    // Waiting before the dispatcher starts: the broker pushes a whole prefetch window at once.
    await ctx.client.declare('taskqueue');
    const bodies: Buffer[] = [];
    for (let n = 0; n < 12; n++) {
      const head = `{"fields":{"params":{"worker_type":"bulk"},"n":${n}},"pad":"`;
      const body = Buffer.from(`${head}${'b'.repeat(MiB - head.length - 2)}"}`);
      bodies.push(body);
      await ctx.client.publish('taskqueue', body, { messageId: `bulk-${n}` });
    }
    await ctx.start();

    const forwarded = await ctx.client.collect('worker_bulk', 12, 60_000);
    expect(forwarded.map((m) => m.properties.messageId).sort()).toEqual(
      bodies.map((_, n) => `bulk-${n}`).sort(),
    );
    for (const message of forwarded) {
      const n = Number(String(message.properties.messageId).slice(5));
      expect(message.content.equals(bodies[n]!)).toBe(true);
    }
    const paused = ctx.dispatcher.logs().filter((l) => /^intake paused/.test(String(l.msg)));
    expect(paused.length).toBeGreaterThan(0);
    await ctx.dispatcher.stop();
    const [drained] = ctx.dispatcher.logs().filter((l) => l.msg === 'dispatcher drained');
    expect(drained?.peakBytesInHand).toBeGreaterThanOrEqual(2 * MiB);
    expect(drained?.peakBytesInHand).toBeLessThanOrEqual(3 * MiB);
    expect(await ctx.client.messageCount('taskqueue')).toBe(0);
  });
});

describe('a vhost at its queue limit', () => {
  const ctx = useDispatcher('queue-limit', 'prefetch = 5');

  it('parks the tasks whose queue the broker refuses, and keeps forwarding the others', async () => {
    const info = brokerInfo();
    if (info.kind !== 'node') throw new Error(`needs the private node to set limits: ${info.kind}`);
    const vhost = decodeURIComponent(new URL(ctx.url).pathname.slice(1));
    // taskqueue, taskqueue.invalid, the delay ladder's levels and worker_one.
    const limit = 3 + DELAY_LEVELS;
    await rabbitmqctl(info.node, ['set_vhost_limits', '-p', vhost, `{"max-queues": ${limit}}`]);
    await ctx.start();
    await ctx.client.publish('taskqueue', workitem('one'), { messageId: 'first' });
    await ctx.client.collect('worker_one', 1, 30_000);

    // More refused tasks than the prefetch window: retried, they held every slot.
    for (let n = 0; n < 10; n++) {
      await ctx.client.publish('taskqueue', workitem(`new-${n}`), { messageId: `new-${n}` });
    }
    await ctx.client.publish('taskqueue', workitem('one'), { messageId: 'behind' });

    const [behind] = await ctx.client.collect('worker_one', 1, 30_000);
    expect(behind?.properties.messageId).toBe('behind');
    const parked = await ctx.client.collect('taskqueue.invalid', 10, 30_000);
    expect(parked).toHaveLength(10);
    for (const message of parked) {
      expect(message.properties.headers?.[CODE]).toBe('TQ_ERR_AMQP_QUEUE_REFUSED');
    }
    const mismatch = ctx.dispatcher.logs().filter((l) => l.code === 'TQ_ERR_AMQP_QUEUE_MISMATCH');
    expect(mismatch).toHaveLength(0);
  });
});
