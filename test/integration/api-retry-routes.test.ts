import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskPublisher } from '../../src/api/publish.js';
import type { TaskEvent, TaskRecord } from '../../src/api/store/types.js';
import { AmqpConnection } from '../../src/common/amqp/connection.js';
import { declareQueue } from '../../src/common/amqp/queues.js';
import { RUN_HEADER } from '../../src/common/amqp/wire.js';
import { createLogger } from '../../src/common/logger.js';
import { testAmqpConfig } from '../support/amqp-config.js';
import {
  bearer,
  OPERATE_TOKEN,
  READ_TOKEN,
  RETRY_TOKEN,
  type TestApi,
  testApi,
} from '../support/api-server.js';
import { useVhost } from '../support/broker.js';

/**
 * POST /v1/tasks/{id}/retry against the real broker (the store is the in-memory reference; the
 * store's retry is asserted on all three stores in store-contract.test.ts): what it publishes,
 * under which id and run, and every refusal with its status and code, publishing nothing.
 */
const QUEUE = 'taskqueue';

describe('POST /v1/tasks/{id}/retry', () => {
  let api: TestApi;
  let base: string;
  let connection: AmqpConnection;
  let inspector: ChannelModel;
  let channel: Channel;

  beforeAll(async () => {
    const url = await useVhost('api-retry-routes');
    connection = new AmqpConnection(testAmqpConfig(url, 5), {
      name: 'taskqueue-api-test',
      logger: createLogger('taskqueue-api-test', 'warn', () => {}),
      setup: (ch) => declareQueue(ch, QUEUE, 'classic'),
    });
    await connection.start();
    api = await testApi(taskPublisher(connection, QUEUE));
    base = await api.app.listen({ host: '127.0.0.1', port: 0 });
    inspector = await amqp.connect(url);
    channel = await inspector.createChannel();
  });

  afterAll(async () => {
    await api?.app.close();
    await connection?.close();
    await inspector?.close().catch(() => {});
  });

  const retry = (id: string, token = OPERATE_TOKEN, body?: unknown) =>
    fetch(`${base}/v1/tasks/${id}/retry`, {
      method: 'POST',
      headers: {
        ...bearer(token),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  async function submit(body: unknown): Promise<TaskRecord> {
    const response = await fetch(`${base}/v1/tasks`, {
      method: 'POST',
      headers: { ...bearer(OPERATE_TOKEN), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { task: TaskRecord }).task;
  }

  /** Takes every message on the input queue (acking them), in order. */
  async function drain(): Promise<amqp.GetMessage[]> {
    const messages: amqp.GetMessage[] = [];
    for (;;) {
      const message = await channel.get(QUEUE, { noAck: true });
      if (message === false) return messages;
      messages.push(message);
    }
  }

  const apply = (e: Partial<TaskEvent> & Pick<TaskEvent, 'event' | 'taskId' | 'type'>) =>
    api.store.apply({ at: new Date().toISOString(), attempt: 1, ...e });

  async function expectRefused(response: Response, status: number, code: string): Promise<void> {
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
    expect(await drain()).toEqual([]);
  }

  it('runs a poisoned task again: same id, the next run in x-taskqueue-run, the stored workitem', async () => {
    const task = await submit({ type: 'echo', fields: { n: 3, params: { p: 1 } } });
    await drain();
    await apply({ event: 'poisoned', taskId: task.id, type: 'echo', crashLog: ['exit 7'] });
    const response = await retry(task.id);
    expect(response.status).toBe(200);
    const { task: retried } = (await response.json()) as { task: TaskRecord };
    expect(retried).toMatchObject({ id: task.id, state: 'queued', run: 2 });
    expect(retried.finishedAt).toBeUndefined();
    expect(retried.attempts).toEqual([
      expect.objectContaining({ attempt: 1, crashLog: ['exit 7'] }),
    ]);
    const [message, ...rest] = await drain();
    expect(rest).toEqual([]);
    expect(message!.properties.messageId).toBe(task.id);
    expect(message!.properties.headers?.[RUN_HEADER]).toBe(2);
    // A fresh message: no crash count or attempt of the first run comes with it.
    expect(Object.keys(message!.properties.headers ?? {})).toEqual([RUN_HEADER]);
    expect(JSON.parse(message!.content.toString())).toEqual({
      fields: { n: 3, params: { p: 1, worker_type: 'echo' } },
    });
    expect(api.store.tasks.get(task.id)).toMatchObject({ state: 'queued', run: 2 });
    expect(api.logs).toContainEqual(
      expect.objectContaining({ action: 'retry', token: 'operator', taskId: task.id, run: 2 }),
    );
    // Now queued: not again until this run ends badly too.
    await expectRefused(await retry(task.id), 409, 'TQ_ERR_API_NOT_RETRYABLE');
    await apply({ event: 'failed', taskId: task.id, type: 'echo', run: 2, error: 'again' });
    expect((await retry(task.id, OPERATE_TOKEN, {})).status).toBe(200);
    expect((await drain()).map((m) => m.properties.headers?.[RUN_HEADER])).toEqual([3]);
  });

  it('a retry token may retry a task, and not submit one', async () => {
    const task = await submit({ type: 'echo', fields: { n: 9 } });
    await drain();
    await apply({ event: 'failed', taskId: task.id, type: 'echo', error: 'boom' });
    const response = await retry(task.id, RETRY_TOKEN);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { task: TaskRecord }).task).toMatchObject({
      id: task.id,
      state: 'queued',
      run: 2,
    });
    const [message, ...rest] = await drain();
    expect(rest).toEqual([]);
    expect(message!.properties.messageId).toBe(task.id);
    expect(api.logs).toContainEqual(
      expect.objectContaining({ action: 'retry', token: 'retrier', taskId: task.id, run: 2 }),
    );
    const submitted = await fetch(`${base}/v1/tasks`, {
      method: 'POST',
      headers: { ...bearer(RETRY_TOKEN), 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'echo', fields: {} }),
    });
    await expectRefused(submitted, 403, 'TQ_ERR_API_FORBIDDEN');
  });

  it('runs only the failed types of an incomplete fan-out', async () => {
    const task = await submit({ types: ['echo', 'throw', 'sleep'], fields: { k: 1 } });
    await drain();
    await apply({ event: 'succeeded', taskId: task.id, type: 'echo', result: 'E' });
    await apply({ event: 'failed', taskId: task.id, type: 'throw', error: 'boom' });
    await apply({ event: 'poisoned', taskId: task.id, type: 'sleep' });
    expect(api.store.tasks.get(task.id)?.state).toBe('incomplete');
    const response = await retry(task.id);
    expect(response.status).toBe(200);
    const { task: retried } = (await response.json()) as { task: TaskRecord };
    expect(retried.responses.map((r) => [r.type, r.state])).toEqual([
      ['echo', 'succeeded'],
      ['throw', 'submitted'],
      ['sleep', 'submitted'],
    ]);
    const messages = await drain();
    expect(messages.map((m) => JSON.parse(m.content.toString()).fields.params.worker_type)).toEqual(
      ['throw', 'sleep'],
    );
    expect(messages.map((m) => m.properties.messageId)).toEqual([task.id, task.id]);
  });

  it('retries a task first seen by the dispatcher from the copy its received event carried', async () => {
    await apply({
      event: 'received',
      taskId: 'foreign-1',
      type: 'echo',
      workitem: { fields: { from: 'elsewhere', params: { worker_type: 'echo' } } },
    });
    await apply({ event: 'failed', taskId: 'foreign-1', type: 'echo', error: 'x' });
    expect((await retry('foreign-1')).status).toBe(200);
    const [message] = await drain();
    expect(message!.properties.messageId).toBe('foreign-1');
    expect(JSON.parse(message!.content.toString()).fields.from).toBe('elsewhere');
  });

  it('refuses, with a stable code and publishing nothing, what it cannot retry', async () => {
    await expectRefused(
      await retry('00000000-0000-4000-8000-000000000000'),
      404,
      'TQ_ERR_API_TASK_NOT_FOUND',
    );
    const queued = await submit({ type: 'echo', fields: {} });
    await drain();
    await expectRefused(await retry(queued.id, READ_TOKEN), 403, 'TQ_ERR_API_FORBIDDEN');
    await expectRefused(await retry(queued.id), 409, 'TQ_ERR_API_NOT_RETRYABLE');
    await expectRefused(
      await retry(queued.id, OPERATE_TOKEN, { reply: 1, force: true }),
      400,
      'TQ_ERR_API_INVALID_REQUEST',
    );
    for (const event of ['succeeded', 'cancelled', 'invalid'] as const) {
      const task = await submit({ type: 'echo', fields: {} });
      await drain();
      await apply({ event, taskId: task.id, type: 'echo' });
      await expectRefused(await retry(task.id), 409, 'TQ_ERR_API_NOT_RETRYABLE');
      expect(api.store.tasks.get(task.id)?.state).toBe(event);
    }
    // The dispatcher's copy was cut at its cap: what ran cannot be published again.
    await api.store.apply({
      event: 'received',
      taskId: 'cut-1',
      type: 'echo',
      at: new Date().toISOString(),
      workitem: '{"fields":{"big":"xxxx',
      truncated: true,
    } as TaskEvent);
    await apply({ event: 'poisoned', taskId: 'cut-1', type: 'echo' });
    await expectRefused(await retry('cut-1'), 409, 'TQ_ERR_API_NO_WORKITEM');
    // Never received (its final came first): nothing stored to publish.
    await apply({ event: 'failed', taskId: 'no-copy-1', type: 'echo' });
    await expectRefused(await retry('no-copy-1'), 409, 'TQ_ERR_API_NO_WORKITEM');
    expect(api.store.tasks.get('no-copy-1')).toMatchObject({ state: 'failed' });
    expect(api.store.tasks.get('no-copy-1')?.run).toBeUndefined();
  });

  it('waits for the new run to end with reply', async () => {
    const task = await submit({ type: 'echo', fields: {} });
    await drain();
    await apply({ event: 'failed', taskId: task.id, type: 'echo' });
    const pending = retry(task.id, OPERATE_TOKEN, { reply: 20 });
    // The tracker's part, played by hand: the new run's final once its message is out.
    for (let got = await drain(); got.length === 0; got = await drain()) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await apply({ event: 'succeeded', taskId: task.id, type: 'echo', run: 2, result: 'ok' });
    const response = await pending;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { task: TaskRecord }).task).toMatchObject({
      state: 'succeeded',
      run: 2,
      result: 'ok',
    });
  });

  it('is in the OpenAPI description, with its codes', async () => {
    const response = await fetch(`${base}/openapi.json`, { headers: bearer(READ_TOKEN) });
    const doc = (await response.json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const route = doc.paths['/v1/tasks/{id}/retry']?.post;
    expect(Object.keys(route?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '404', '409', '503']),
    );
  });
});
