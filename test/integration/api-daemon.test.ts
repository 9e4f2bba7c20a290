import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/api/store/types.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import { type ApiStack, startApiStack } from '../support/api-program.js';
import { OPERATE_TOKEN, READ_TOKEN } from '../support/api-server.js';
import { useVhost } from '../support/broker.js';

/**
 * `taskqueue-api` as installed: the daemon with its SQLite store and its tracker, beside a real
 * dispatcher and pool with [tracking] on. What a client sees through HTTP only.
 */
describe('taskqueue-api with tracking, for real', () => {
  let stack: ApiStack;
  let url = '';
  const call = (method: string, path: string, token: string, body?: unknown) =>
    stack.call(method, path, token, body);

  beforeAll(async () => {
    url = await useVhost('api-daemon');
    stack = await startApiStack(url, ['echo', 'throw']);
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('answers a submit with reply once the task succeeded, with its attempt and result', async () => {
    const submitted = await call('POST', '/v1/tasks', OPERATE_TOKEN, {
      type: 'echo',
      fields: { n: 1 },
      reply: 30,
    });
    expect(submitted.status).toBe(201);
    const task = submitted.json.task as TaskRecord;
    expect(task.state).toBe('succeeded');
    const read = await call('GET', `/v1/tasks/${task.id}`, READ_TOKEN);
    const stored = read.json.task as TaskRecord;
    expect(stored.state).toBe('succeeded');
    expect(stored.source).toBe('api');
    expect(stored.attempts).toHaveLength(1);
    expect(stored.attempts[0]!.pid).toBeGreaterThan(0);
    expect(stored.attempts[0]!.endedAt).toBeDefined();
    expect(stored.result).toBeDefined();
  }, 60_000);

  it('records a failing task as failed with the error of its last attempt', async () => {
    const submitted = await call('POST', '/v1/tasks', OPERATE_TOKEN, {
      type: 'throw',
      fields: { n: 7 },
      reply: 30,
    });
    const task = submitted.json.task as TaskRecord;
    expect(task.state).toBe('failed');
    expect(task.attempts.at(-1)!.error).toContain('boom on 7');
  }, 60_000);

  it('streams the changes the tracker applied', async () => {
    const controller = new AbortController();
    const response = await fetch(`${stack.base}/v1/events`, {
      headers: { authorization: `Bearer ${READ_TOKEN}` },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const submitted = await call('POST', '/v1/tasks', OPERATE_TOKEN, {
      type: 'echo',
      fields: { n: 2 },
    });
    const id = (submitted.json.task as TaskRecord).id;
    let text = '';
    const decoder = new TextDecoder();
    while (!new RegExp(`"taskId":"${id}"[^\\n]*"state":"succeeded"`).test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    expect(text).toMatch(new RegExp(`"taskId":"${id}"[^\\n]*"state":"succeeded"`));
  }, 60_000);

  it('records a task a foreign AMQP client published straight to the input queue', async () => {
    const client = await TestClient.connect(url);
    try {
      await client.publish('taskqueue', workitem('echo', { foreign: true }), {
        correlationId: 'foreign-1',
      });
    } finally {
      await client.close();
    }
    await expect
      .poll(
        async () => {
          const read = await call('GET', '/v1/tasks/foreign-1', READ_TOKEN);
          return read.status === 200 ? (read.json.task as TaskRecord).state : read.status;
        },
        { timeout: 30_000, interval: 200 },
      )
      .toBe('succeeded');
    const task = (await call('GET', '/v1/tasks/foreign-1', READ_TOKEN)).json.task as TaskRecord;
    expect(task.source).toBe('queue');
    expect(task.workitem).toMatchObject({ fields: { foreign: true } });
  }, 60_000);

  it('answers 404 with a stable code for an id it never saw', async () => {
    const read = await call('GET', '/v1/tasks/00000000-0000-4000-8000-000000000000', READ_TOKEN);
    expect(read.status).toBe(404);
    expect((read.json.error as { code: string }).code).toBe('TQ_ERR_API_TASK_NOT_FOUND');
  });
});
