import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RabbitNode } from '@taskqueue/dev/rabbitmq-node';
import amqp from 'amqplib';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseTokens } from '../../src/api/auth/tokens.js';
import { cancelPublisher } from '../../src/api/cancel.js';
import { taskPublisher } from '../../src/api/publish.js';
import { buildServer } from '../../src/api/server.js';
import { Tracker } from '../../src/api/tracker/tracker.js';
import { AmqpConnection } from '../../src/common/amqp/connection.js';
import { ConfirmedPublisher } from '../../src/common/amqp/publisher.js';
import {
  CANCELS_STREAM,
  declareQueue,
  EVENTS_EXCHANGE,
  workerQueue,
} from '../../src/common/amqp/queues.js';
import { CancelFeed, publishCancel } from '../../src/common/cancel/feed.js';
import { createLogger } from '../../src/common/logger.js';
import { parseEvent, type WireEvent } from '../../src/common/tracking/index.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import { testAmqpConfig } from '../support/amqp-config.js';
import { bearer, OPERATE_TOKEN, READ_TOKEN, TEST_TOKENS } from '../support/api-server.js';
import { useVhost } from '../support/broker.js';
import { MemoryTaskStore } from '../support/memory-store.js';
import {
  type Program,
  startDispatcher,
  startPool,
  testConfig,
  writeConfig,
} from '../support/programs.js';

const TYPE = 'cancellable';

/** A directory the children (another user when the tests run as root) can write to. */
function runsDir(): {
  dir: string;
  ran: (id: string) => boolean;
  aborted: (id: string) => string | undefined;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'tq-cancel-'));
  chmodSync(dir, 0o777);
  return {
    dir,
    ran: (id) => existsSync(join(dir, `${id}.ran`)),
    aborted: (id) => {
      const file = join(dir, `${id}.aborted`);
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A queue of the test's own bound to every lifecycle event. */
async function tap(client: TestClient, name: string): Promise<string> {
  await client.channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
  await client.channel.assertQueue(name, { durable: true });
  await client.channel.bindQueue(name, EVENTS_EXCHANGE, 'task.#');
  return name;
}

describe('cancel (taskqueue.cancels)', () => {
  let url: string;
  let client: TestClient;
  let configText: (sections?: string) => string;
  const cleanups: Array<() => unknown> = [];

  beforeAll(async () => {
    url = await useVhost('cancel');
    client = await TestClient.connect(url);
    configText = (sections = '') =>
      testConfig(
        url,
        [TYPE],
        `[tracking]\nenabled = yes\n\n[${TYPE}]\nworkers = 2\nmax_attempts = 3\nretry_delay = 0.2\n${sections}`,
      );
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await client?.close();
  });

  function program(start: (file: string) => Program): Program {
    const config = writeConfig(configText());
    const p = start(config.file);
    cleanups.push(async () => {
      await p.stop();
      config.cleanup();
    });
    return p;
  }

  it('a task cancelled while queued and no pool runs is never run; the others are; a pool started later still knows', async () => {
    const runs = runsDir();
    cleanups.push(runs.cleanup);
    const events = await tap(client, 'test.cancel.events.1');
    // The API, in process, on the in-memory store, publishing through its own connection.
    const log = createLogger('taskqueue-api', 'info', (line) => apiLogs.push(JSON.parse(line)));
    const apiLogs: Array<Record<string, unknown>> = [];
    const connection = new AmqpConnection(testAmqpConfig(url), {
      name: 'cancel-test-api',
      logger: createLogger('cancel-test', 'silent'),
      setup: (channel) => declareQueue(channel, 'taskqueue', 'classic'),
    });
    await connection.start();
    cleanups.push(() => connection.close());
    const store = new MemoryTaskStore();
    const tokens = parseTokens(TEST_TOKENS, 'test tokens');
    const app: FastifyInstance = await buildServer({
      store,
      publish: taskPublisher(connection, 'taskqueue'),
      cancel: cancelPublisher(connection),
      tokens: () => tokens,
      loopbackWithoutToken: false,
      maxBodySize: 64 * 1024,
      maxReplyWait: 30,
      log,
    });
    cleanups.push(() => app.close());

    program(startDispatcher);
    // Three tasks from a foreign client, two through the API; no pool runs yet.
    await client.declare('taskqueue');
    for (const id of ['c-0', 'c-1', 'c-2'])
      await client.publish('taskqueue', workitem(TYPE, { dir: runs.dir }), { correlationId: id });
    const submit = async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: bearer(OPERATE_TOKEN),
        payload: { type: TYPE, fields: { dir: runs.dir } },
      });
      expect(res.statusCode).toBe(201);
      return (res.json() as { task: { id: string } }).task.id;
    };
    const a1 = await submit();
    const a2 = await submit();
    await expect.poll(() => client.messageCount(workerQueue(TYPE)), { timeout: 30_000 }).toBe(5);

    // c-1 through the stream as any client may; a1 through the API.
    const publisher = new ConfirmedPublisher(client.channel);
    await publishCancel(client.channel, publisher, { taskId: 'c-1', by: 'test' });
    const cancel = (id: string, token = OPERATE_TOKEN) =>
      app.inject({ method: 'POST', url: `/v1/tasks/${id}/cancel`, headers: bearer(token) });
    expect((await cancel(a1, READ_TOKEN)).json().error.code).toBe('TQ_ERR_API_FORBIDDEN');
    const unknown = await cancel('no-such-task');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('TQ_ERR_API_TASK_NOT_FOUND');
    const accepted = await cancel(a1);
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json().task.id).toBe(a1);
    // Again, with an empty JSON object as body: the same answer (a cancel is idempotent).
    const twice = await app.inject({
      method: 'POST',
      url: `/v1/tasks/${a1}/cancel`,
      headers: bearer(OPERATE_TOKEN),
      payload: {},
    });
    expect(twice.statusCode).toBe(202);
    const openapi = await app.inject({
      method: 'GET',
      url: '/openapi.json',
      headers: bearer(READ_TOKEN),
    });
    expect(Object.keys(openapi.json().paths)).toContain('/v1/tasks/{id}/cancel');
    expect(apiLogs).toContainEqual(
      expect.objectContaining({ action: 'cancel', token: 'operator', taskId: a1 }),
    );

    // Only now a pool: its children read the stream before they take a task.
    const pool = program(startPool);
    await pool.waitForRunning(TYPE, 2);
    const results = await client.collect('results', 5, 60_000);
    const byId = new Map(
      results.map((m) => [m.properties.correlationId as string, JSON.parse(m.content.toString())]),
    );
    for (const id of ['c-0', 'c-2', a2]) {
      expect(runs.ran(id), id).toBe(true);
      expect(byId.get(id).fields.ran).toBe(true);
      expect(byId.get(id).error).toBeUndefined();
    }
    for (const id of ['c-1', a1]) {
      expect(runs.ran(id), id).toBe(false);
      expect(byId.get(id).error).toContain('TQ_ERR_TASK_CANCELLED');
      expect(byId.get(id).fields.ran).toBeUndefined();
    }
    // The finals: `cancelled` for both, with the code; no `started` for either.
    await expect
      .poll(async () => (await client.messageCount(events)) >= 5 * 2 + 3, { timeout: 30_000 })
      .toBe(true);
    const seen: WireEvent[] = (await client.drain(events)).map((m) => parseEvent(m.content));
    for (const id of ['c-1', a1]) {
      const of = seen.filter((e) => e.taskId === id);
      expect(
        of.map((e) => e.event),
        id,
      ).toEqual(['received', 'cancelled']);
      expect(of[1]!.errorCode).toBe('TQ_ERR_TASK_CANCELLED');
    }
    // The tracker applies the finals to the store: the API's cancel ends `cancelled` there.
    const tracker = new Tracker({
      amqp: testAmqpConfig(url),
      store,
      log: createLogger('t', 'silent'),
    });
    cleanups.push(() => tracker.stop());
    await tracker.start();
    await expect
      .poll(async () => (await store.get(a1))?.state, { timeout: 30_000 })
      .toBe('cancelled');
    await expect
      .poll(async () => (await store.get(a2))?.state, { timeout: 30_000 })
      .toBe('succeeded');
    // A final task cannot be cancelled: 409 with its own code.
    const final = await cancel(a2);
    expect(final.statusCode).toBe(409);
    expect(final.json().error.code).toBe('TQ_ERR_API_TASK_FINAL');

    // A pool started afresh reads the stream from its start: c-1 again is still cancelled.
    await pool.stop();
    const again = program(startPool);
    await again.waitForRunning(TYPE, 2);
    await client.publish('taskqueue', workitem(TYPE, { dir: runs.dir, again: true }), {
      correlationId: 'c-1',
    });
    await client.publish('taskqueue', workitem(TYPE, { dir: runs.dir }), { correlationId: 'c-3' });
    const later = await client.collect('results', 2, 60_000);
    const laterById = new Map(
      later.map((m) => [m.properties.correlationId as string, JSON.parse(m.content.toString())]),
    );
    expect(laterById.get('c-1').error).toContain('TQ_ERR_TASK_CANCELLED');
    expect(runs.ran('c-1')).toBe(false);
    expect(runs.ran('c-3')).toBe(true);
  });

  it('a running task is stopped through its signal and ends cancelled, not retried', async () => {
    const runs = runsDir();
    cleanups.push(runs.cleanup);
    const events = await tap(client, 'test.cancel.events.2');
    const pool = program(startPool);
    await pool.waitForRunning(TYPE, 2);
    await client.declare(workerQueue(TYPE));
    await client.publish(workerQueue(TYPE), workitem(TYPE, { dir: runs.dir, hold_ms: 600_000 }), {
      correlationId: 'long-1',
    });
    await expect.poll(() => runs.ran('long-1'), { timeout: 30_000 }).toBe(true);
    const publisher = new ConfirmedPublisher(client.channel);
    await publishCancel(client.channel, publisher, { taskId: 'long-1', by: 'test' });
    const collected: WireEvent[] = [];
    const [result] = await client.collect('results', 1, 60_000);
    const body = JSON.parse(result!.content.toString());
    expect(body.error).toContain('TQ_ERR_TASK_CANCELLED');
    expect(runs.aborted('long-1')).toBe('TQ_ERR_TASK_CANCELLED');
    await expect
      .poll(
        async () => {
          const list = (await client.drain(events)).map((m) => parseEvent(m.content));
          collected.push(...list);
          return collected.some((e) => e.event === 'cancelled');
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    const names = collected.filter((e) => e.taskId === 'long-1').map((e) => e.event);
    expect(names).toEqual(['started', 'cancelled']);
    expect(collected.find((e) => e.event === 'cancelled')?.errorCode).toBe('TQ_ERR_TASK_CANCELLED');
    // Not retried: nothing comes back to the queue.
    expect(await client.messageCount(workerQueue(TYPE))).toBe(0);
  });
});

describe('cancel with tracking off, and across a broker restart', () => {
  let node: RabbitNode;
  let pool: Program | undefined;
  let config: ReturnType<typeof writeConfig> | undefined;
  let client: TestClient | undefined;
  const runs = runsDir();

  beforeAll(async () => {
    // A private node: this test restarts the broker.
    node = await RabbitNode.start();
  });
  afterAll(async () => {
    await client?.close().catch(() => {});
    await pool?.stop();
    await node?.destroy();
    config?.cleanup();
    runs.cleanup();
  });

  it('a cancel issued before the restart, and one after, are both honoured by children that reconnected', async () => {
    config = writeConfig(
      testConfig(node.url, [TYPE], `[tracking]\nenabled = no\n\n[${TYPE}]\nworkers = 1\n`),
    );
    pool = startPool(config.file);
    await pool.waitForRunning(TYPE);
    client = await TestClient.connect(node.url);
    await client.declare('results');
    await publishCancel(client.channel, new ConfirmedPublisher(client.channel), {
      taskId: 'before',
      by: 'test',
    });
    await client.close();
    await node.restart();
    // Right after a restart the stream may not be served yet (404 "home node … is down or
    // inaccessible", which closes the channel; the children retry on their own): publish again
    // on a fresh client until the broker takes it.
    const deadline = Date.now() + 60_000;
    for (;;) {
      client = await TestClient.connect(node.url);
      try {
        await publishCancel(client.channel, new ConfirmedPublisher(client.channel), {
          taskId: 'after',
          by: 'test',
        });
        break;
      } catch (err) {
        await client.close().catch(() => {});
        if (Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    // Published straight to the worker queue once the child consumes it again.
    await expect.poll(() => client!.consumerCount(workerQueue(TYPE)), { timeout: 60_000 }).toBe(1);
    // `after` may be read before the child takes its task, or just after: it holds for long, so
    // that either way it ends cancelled (not run, or stopped through its signal).
    for (const id of ['before', 'after', 'plain'])
      await client.publish(
        workerQueue(TYPE),
        workitem(TYPE, { dir: runs.dir, hold_ms: id === 'after' ? 600_000 : 0 }),
        { correlationId: id },
      );
    const results = await client.collect('results', 3, 60_000);
    const byId = new Map(
      results.map((m) => [m.properties.correlationId as string, JSON.parse(m.content.toString())]),
    );
    expect(byId.get('before').error).toContain('TQ_ERR_TASK_CANCELLED');
    expect(byId.get('after').error).toContain('TQ_ERR_TASK_CANCELLED');
    expect(byId.get('plain').fields.ran).toBe(true);
    expect(runs.ran('before')).toBe(false);
    expect(runs.ran('plain')).toBe(true);
  });
});

describe('CancelFeed on a real broker', () => {
  it('follow resolves once all published before it was read; a reconnect reads on from where it left off', async () => {
    const url = await useVhost('cancel-feed');
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger('feed', 'info', (line) => lines.push(JSON.parse(line)));
    const told: string[] = [];
    const feed = new CancelFeed(log, (id) => told.push(id));
    const client = await TestClient.connect(url);
    const publisher = new ConfirmedPublisher(client.channel);
    const cancels = (from: number, to: number) =>
      Promise.all(
        Array.from({ length: to - from }, (_, i) =>
          publishCancel(client.channel, publisher, { taskId: `f-${from + i}`, by: 'test' }),
        ),
      );
    // Anyone may write to the stream: what is not a cancel is skipped, and reading goes on.
    await publishCancel(client.channel, publisher, { taskId: 'f-0', by: 'test' });
    client.channel.sendToQueue(CANCELS_STREAM, Buffer.from('not a cancel'));
    client.channel.sendToQueue(
      CANCELS_STREAM,
      Buffer.from(JSON.stringify({ v: 1, kind: 'cancel', taskId: 'evil', at: 'now', by: 'x' })),
    );
    await client.channel.waitForConfirms();
    await cancels(1, 300);
    const connect = async () => {
      const model = await amqp.connect(url);
      return { model, channel: await model.createConfirmChannel() };
    };
    const first = await connect();
    await feed.follow(first.model, first.channel, new ConfirmedPublisher(first.channel));
    expect(feed.set.size).toBe(300);
    expect(told).toHaveLength(300);
    expect(feed.cancelled('f-299')).toBe(true);
    expect(feed.cancelled('f-300')).toBe(false);
    await first.model.close();
    await cancels(300, 310);
    const second = await connect();
    await feed.follow(second.model, second.channel, new ConfirmedPublisher(second.channel));
    expect(feed.set.size).toBe(310);
    expect(told).toHaveLength(310);
    expect(feed.cancelled('evil')).toBe(false);
    expect(
      lines.filter((l) => l.msg === 'cancel stream message skipped').map((l) => l.code),
    ).toEqual(['TQ_ERR_CANCEL_INVALID', 'TQ_ERR_CANCEL_INVALID']);
    // 300 cancels, 2 skipped and its own mark; then only the 10 new ones and the second mark.
    const reads = lines.filter((l) => l.msg === 'cancel stream read').map((l) => l.read);
    expect(reads).toEqual([303, 11]);
    feed.closing();
    await second.model.close();
    await client.close();
  });
});
