import amqp from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TaskEvent } from '../../src/api/store/types.js';
import { Tracker } from '../../src/api/tracker/tracker.js';
import {
  EVENTS_EXCHANGE,
  TRACKER_BINDING,
  TRACKER_INVALID_QUEUE,
  TRACKER_QUEUE,
  workerQueueDeclaration,
} from '../../src/common/amqp/queues.js';
import { ERROR_CODE_HEADER } from '../../src/common/amqp/wire.js';
import { createLogger } from '../../src/common/logger.js';
import { parseEvent, type WireEvent } from '../../src/common/tracking/index.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import { testAmqpConfig } from '../support/amqp-config.js';
import { useVhost } from '../support/broker.js';
import { MemoryTaskStore } from '../support/memory-store.js';
import { livePids } from '../support/pool-children.js';
import {
  type Program,
  startDispatcher,
  startPool,
  testConfig,
  writeConfig,
} from '../support/programs.js';

const log = createLogger('tracker-test', 'silent');

/** Runs the dispatcher and a pool on `url` with `sections` (tracking on unless said). */
function programs(
  url: string,
  types: string[],
  sections: string,
  cleanups: Array<() => unknown>,
  tracking = 'yes',
): { dispatcher: Program; pool: Program } {
  const config = writeConfig(
    testConfig(url, types, `[tracking]\nenabled = ${tracking}\n\n${sections}`),
  );
  const dispatcher = startDispatcher(config.file);
  const pool = startPool(config.file);
  cleanups.push(async () => {
    await Promise.all([dispatcher.stop(), pool.stop()]);
    config.cleanup();
  });
  return { dispatcher, pool };
}

function startTracker(url: string, store: MemoryTaskStore, cleanups: Array<() => unknown>) {
  const tracker = new Tracker({ amqp: testAmqpConfig(url), store, log });
  cleanups.push(() => tracker.stop());
  return tracker;
}

/** A queue of the test's own bound to every event, read in order. */
async function tap(client: TestClient): Promise<string> {
  const queue = 'test.events.tap';
  await client.channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
  await client.channel.assertQueue(queue, { durable: true });
  await client.channel.bindQueue(queue, EVENTS_EXCHANGE, 'task.#');
  return queue;
}

const eventsOf = (messages: amqp.ConsumeMessage[]): WireEvent[] =>
  messages.map((m) => parseEvent(m.content));

describe('lifecycle events with [tracking] enabled = yes', () => {
  let url: string;
  let client: TestClient;
  const cleanups: Array<() => unknown> = [];

  beforeAll(async () => {
    url = await useVhost('tracking');
    client = await TestClient.connect(url);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await client?.close();
  });

  it('publishes every event of succeeded, retried, poisoned and invalid tasks, and the tracker applies them', async () => {
    const queue = await tap(client);
    const { pool } = programs(
      url,
      ['echo', 'flaky', 'exit-on-task'],
      '[echo]\nworkers = 1\n[flaky]\nworkers = 1\nmax_attempts = 3\nretry_delay = 0.2\n' +
        '[exit-on-task]\nworkers = 1\nmax_crashes = 1\n',
      cleanups,
    );
    await pool.waitForRunning('exit-on-task');
    await pool.waitForRunning('flaky');
    await pool.waitForRunning('echo');
    await client.declare('taskqueue');
    const N = 10;
    for (let i = 0; i < N; i++)
      await client.publish('taskqueue', workitem('echo', { i }), { correlationId: `ok-${i}` });
    await client.publish('taskqueue', workitem('flaky', { succeed_on: 2 }), {
      correlationId: 'retry-1',
    });
    await client.publish('taskqueue', workitem('exit-on-task', { die: true }), {
      correlationId: 'poison-1',
    });
    await client.publish('taskqueue', 'not json', { correlationId: 'bad-1' });
    // Without correlation_id or message_id: the dispatcher gives it a message_id to track it by.
    await client.publish('taskqueue', workitem('echo', { anonymous: true }));
    // received+started+succeeded a task, and: received, started, retrying, started, succeeded;
    // received, poisoned (and `started`, best-effort, unless its child died before sending it);
    // invalid; received, started, succeeded of the task without an id.
    const messages = await client.collect(queue, N * 3 + 5 + 2 + 1 + 3, 60_000);
    await expect
      .poll(async () => (await client.messageCount(TRACKER_QUEUE)) >= messages.length)
      .toBe(true);
    const events = eventsOf([...messages, ...(await client.drain(queue))]);
    // The dispatcher's `received` and a child's events come from two publishers: their order
    // on the queue is not defined (the forward is published before `received`), each
    // publisher's own order is. So: `received` once, first of the dispatcher's, then the child's.
    const of = (id: string) => {
      const mine = events.filter((e) => e.taskId === id).map((e) => e.event);
      const received = mine.filter((e) => e === 'received');
      return [...received, ...mine.filter((e) => e !== 'received')];
    };
    for (let i = 0; i < N; i++) expect(of(`ok-${i}`)).toEqual(['received', 'started', 'succeeded']);
    expect(of('retry-1')).toEqual(['received', 'started', 'retrying', 'started', 'succeeded']);
    expect(of('poison-1').filter((e) => e !== 'started')).toEqual(['received', 'poisoned']);
    expect(of('bad-1')).toEqual(['invalid']);
    const named = new Set([
      'retry-1',
      'poison-1',
      'bad-1',
      ...Array.from({ length: N }, (_, i) => `ok-${i}`),
    ]);
    const anonymous = [...new Set(events.map((e) => e.taskId))].filter((id) => !named.has(id));
    expect(anonymous).toHaveLength(1);
    expect(of(anonymous[0]!)).toEqual(['received', 'started', 'succeeded']);
    const started = events.find((e) => e.taskId === 'ok-0' && e.event === 'started')!;
    expect(started).toMatchObject({ attempt: 1, user: expect.any(String) });
    expect(started.pid).toBeGreaterThan(0);
    expect(events.find((e) => e.event === 'received' && e.taskId === 'ok-3')?.workitem).toEqual(
      JSON.parse(workitem('echo', { i: 3 })),
    );
    const poisoned = events.find((e) => e.event === 'poisoned')!;
    expect(poisoned.errorCode).toBe('TQ_ERR_TASK_POISON');
    expect(poisoned.crashLog).toHaveLength(1);
    expect(events.find((e) => e.event === 'invalid')?.errorCode).toBe('TQ_ERR_TASK_INVALID');

    // The tracker reads the same events from its own queue, kept for it since the first one.
    const store = new MemoryTaskStore();
    const tracker = startTracker(url, store, cleanups);
    await tracker.start();
    await expect.poll(() => client.messageCount(TRACKER_QUEUE), { timeout: 20_000 }).toBe(0);
    await expect.poll(() => store.tasks.size, { timeout: 20_000 }).toBe(N + 4);
    expect(store.tasks.get(anonymous[0]!)?.state).toBe('succeeded');
    for (let i = 0; i < N; i++) expect(store.tasks.get(`ok-${i}`)?.state).toBe('succeeded');
    expect(store.tasks.get('retry-1')?.state).toBe('succeeded');
    expect(store.tasks.get('retry-1')?.attempts.map((a) => a.attempt)).toEqual([1, 2]);
    expect(store.tasks.get('poison-1')?.state).toBe('poisoned');
    expect(store.tasks.get('bad-1')?.state).toBe('invalid');
    expect(store.tasks.get('ok-1')?.attempts[0]?.pid).toBeGreaterThan(0);
    await client.channel.unbindQueue(queue, EVENTS_EXCHANGE, 'task.#');
  });

  it('ends every task in its final state through kill -9 of a child and a restart of the tracker', async () => {
    const { pool } = programs(
      url,
      ['slow'],
      '[slow]\nworkers = 2\nsleep_ms = 150\nmax_crashes = 5\n',
      cleanups,
    );
    await pool.waitForRunning('slow', 2);
    const store = new MemoryTaskStore();
    let tracker = new Tracker({ amqp: testAmqpConfig(url), store, log });
    await tracker.start();
    const N = 40;
    await client.declare('taskqueue');
    for (let i = 0; i < N; i++)
      await client.publish('taskqueue', workitem('slow', { i }), { correlationId: `k-${i}` });
    const ours = () => [...store.tasks.values()].filter((t) => t.id.startsWith('k-'));
    const running = () => ours().filter((t) => t.state === 'running').length;
    await expect.poll(running, { timeout: 20_000, interval: 10 }).toBeGreaterThan(0);
    process.kill(livePids(pool, 'slow')[0]!, 'SIGKILL');
    const done = () => ours().filter((t) => t.state === 'succeeded').length;
    await expect.poll(done, { timeout: 30_000, interval: 20 }).toBeGreaterThan(N / 4);
    await tracker.stop();
    tracker = startTracker(url, store, cleanups);
    await tracker.start();
    await expect.poll(done, { timeout: 60_000 }).toBe(N);
    await expect.poll(() => client.messageCount(TRACKER_QUEUE), { timeout: 20_000 }).toBe(0);
    expect(ours()).toHaveLength(N);
    expect(tracker.counts.parked).toBe(0);
  });

  it('parks an unreadable event with its code instead of requeueing it', async () => {
    const store = new MemoryTaskStore();
    const tracker = startTracker(url, store, cleanups);
    await tracker.start();
    await client.channel.publish(EVENTS_EXCHANGE, 'task.succeeded.echo', Buffer.from('{"v":1'));
    await client.channel.publish(
      EVENTS_EXCHANGE,
      'task.succeeded.echo',
      Buffer.from(JSON.stringify({ v: 1, event: 'exploded', taskId: 'x', type: 'e', at: 'now' })),
    );
    await client.channel.waitForConfirms();
    const parked = await client.collect(TRACKER_INVALID_QUEUE, 2, 20_000);
    expect(parked.map((m) => m.properties.headers?.[ERROR_CODE_HEADER])).toEqual([
      'TQ_ERR_EVENT_INVALID',
      'TQ_ERR_EVENT_INVALID',
    ]);
    // Counted once the park's confirm is back, which may come after the test saw the message.
    await vi.waitFor(() => expect(tracker.counts.parked).toBe(2), { timeout: 20_000 });
    expect(store.tasks.has('x')).toBe(false);
  });

  it('applies a batch the store refused one event at a time, handing back only what fails', async () => {
    // The store refuses every batch, and the one event of task `bad` once.
    let refusals = 0;
    const store = new (class extends MemoryTaskStore {
      override async applyBatch(): Promise<boolean[]> {
        throw new Error('batch refused');
      }
      override async apply(event: TaskEvent): Promise<boolean> {
        if (event.taskId === 'bad' && refusals++ === 0) throw new Error('store down');
        return super.apply(event);
      }
    })();
    const tracker = startTracker(url, store, cleanups);
    await tracker.start();
    const received = (taskId: string) =>
      Buffer.from(
        JSON.stringify({
          v: 1,
          event: 'received',
          taskId,
          type: 'echo',
          at: new Date().toISOString(),
        }),
      );
    for (const taskId of ['ok1', 'bad', 'ok2'])
      client.channel.publish(EVENTS_EXCHANGE, 'task.received.echo', received(taskId));
    client.channel.publish(EVENTS_EXCHANGE, 'task.received.echo', Buffer.from('not json'));
    await client.channel.waitForConfirms();
    await vi.waitFor(
      () => {
        expect([...store.tasks.keys()].sort()).toEqual(['bad', 'ok1', 'ok2']);
        expect(tracker.counts).toMatchObject({ applied: 3, retried: 1, parked: 1 });
      },
      { timeout: 20_000 },
    );
  });
});

describe('a final event the broker does not confirm', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('leaves the task unacked: it runs again until its final event is confirmed', async () => {
    const url = await useVhost('tracking-unconfirmed');
    const client = await TestClient.connect(url);
    cleanups.push(() => client.close());
    const { pool } = programs(url, ['echo'], '[echo]\nworkers = 1\n', cleanups);
    await pool.waitForRunning('echo');
    // No queue bound: the child's mandatory publish of the final event comes back unroutable.
    await client.channel.unbindQueue(TRACKER_QUEUE, EVENTS_EXCHANGE, TRACKER_BINDING);
    const { name, options } = workerQueueDeclaration('echo', 'classic', undefined);
    await client.channel.assertQueue(name, options);
    await client.publish(name, workitem('echo', {}), { correlationId: 'u-1' });
    // Its result went out each time; the task itself stays with the broker.
    const results = await client.collect('results', 2, 30_000);
    expect(results.map((m) => m.properties.correlationId)).toEqual(['u-1', 'u-1']);
    expect(
      pool.logs().some((l) => l.msg === 'outcome refused; task requeued' && l.taskId === 'u-1'),
    ).toBe(true);
    await client.channel.bindQueue(TRACKER_QUEUE, EVENTS_EXCHANGE, TRACKER_BINDING);
    const store = new MemoryTaskStore();
    const tracker = startTracker(url, store, cleanups);
    await tracker.start();
    await expect.poll(() => store.tasks.get('u-1')?.state, { timeout: 30_000 }).toBe('succeeded');
    await expect.poll(() => client.messageCount(name), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => client.consumerCount(name)).toBe(1);
    await client.drain('results');
  });
});

describe('[tracking] enabled = no', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('declares and publishes nothing', async () => {
    const url = await useVhost('tracking-off');
    const client = await TestClient.connect(url);
    cleanups.push(() => client.close());
    const { pool } = programs(url, ['echo'], '[echo]\nworkers = 1\n', cleanups, 'no');
    await pool.waitForRunning('echo');
    await client.declare('taskqueue');
    await client.publish('taskqueue', workitem('echo', {}), { correlationId: 'off-1' });
    await client.collect('results', 1, 30_000);
    // A passive check of what does not exist closes the channel: on a connection of its own.
    const connection = await amqp.connect(url);
    cleanups.push(() => connection.close());
    const channel = await connection.createChannel();
    channel.on('error', () => {});
    await expect(channel.checkExchange(EVENTS_EXCHANGE)).rejects.toThrow(/404|NOT_FOUND/);
  });
});
