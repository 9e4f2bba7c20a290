import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskPublisher } from '../../src/api/publish.js';
import { AmqpConnection } from '../../src/common/amqp/connection.js';
import { declareQueue } from '../../src/common/amqp/queues.js';
import { createLogger } from '../../src/common/logger.js';
import { testAmqpConfig } from '../support/amqp-config.js';
import { bearer, OPERATE_TOKEN, READ_TOKEN, type TestApi, testApi } from '../support/api-server.js';
import { useVhost } from '../support/broker.js';

/**
 * The API server against the real broker: submits are published to the input queue with confirm
 * and can be read back from it; every refusal is a 4xx with its code and leaves neither a task in
 * the store nor a message on the queue. The store is the in-memory one until issue 28's store
 * part is merged.
 */
const QUEUE = 'taskqueue';
const MAX_BODY = 16 * 1024;

describe('taskqueue-api against the broker', () => {
  let api: TestApi;
  let base: string;
  let connection: AmqpConnection;
  let inspector: ChannelModel;
  let channel: Channel;

  beforeAll(async () => {
    const url = await useVhost('api');
    connection = new AmqpConnection(testAmqpConfig(url, 5), {
      name: 'taskqueue-api-test',
      logger: createLogger('taskqueue-api-test', 'warn', () => {}),
      setup: (ch) => declareQueue(ch, QUEUE, 'classic'),
    });
    await connection.start();
    api = await testApi(taskPublisher(connection, QUEUE), { maxBodySize: MAX_BODY });
    base = await api.app.listen({ host: '127.0.0.1', port: 0 });
    inspector = await amqp.connect(url);
    channel = await inspector.createChannel();
  });

  afterAll(async () => {
    await api?.app.close();
    await connection?.close();
    await inspector?.close().catch(() => {});
  });

  const post = (body: unknown, token = OPERATE_TOKEN, raw?: string) =>
    fetch(`${base}/v1/tasks`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: raw ?? JSON.stringify(body),
    });
  const get = (path: string, headers: Record<string, string> = bearer(READ_TOKEN)) =>
    fetch(`${base}${path}`, { headers });

  /** Takes every message on the input queue (acking them), in order. */
  async function drain(): Promise<amqp.GetMessage[]> {
    const messages: amqp.GetMessage[] = [];
    for (;;) {
      const message = await channel.get(QUEUE, { noAck: true });
      if (message === false) return messages;
      messages.push(message);
    }
  }

  it('a submit is stored, published with its id as message id, and marked queued', async () => {
    const response = await post({ type: 'echo', fields: { n: 1, params: { x: 'y' } } });
    expect(response.status).toBe(201);
    const { task, created } = (await response.json()) as {
      task: { id: string; state: string };
      created: boolean;
    };
    expect(created).toBe(true);
    expect(task.state).toBe('queued');
    const [message, ...rest] = await drain();
    expect(rest).toEqual([]);
    expect(message!.properties.messageId).toBe(task.id);
    expect(message!.properties.deliveryMode).toBe(2);
    expect(JSON.parse(message!.content.toString())).toEqual({
      fields: { n: 1, params: { x: 'y', worker_type: 'echo' } },
    });
    expect(api.store.tasks.get(task.id)?.state).toBe('queued');
    expect(api.logs).toContainEqual(
      expect.objectContaining({ action: 'submit', token: 'operator', taskId: task.id }),
    );
  });

  it('the same idempotency key twice: one task, one message', async () => {
    const body = { type: 'echo', fields: {}, idempotencyKey: 'once-only' };
    const first = await post(body);
    const second = await post(body);
    expect([first.status, second.status]).toEqual([201, 200]);
    const a = (await first.json()) as { task: { id: string } };
    const b = (await second.json()) as { task: { id: string }; created: boolean };
    expect(b.created).toBe(false);
    expect(b.task.id).toBe(a.task.id);
    expect((await drain()).map((m) => m.properties.messageId)).toEqual([a.task.id]);
  });

  it('fan-out: one id, one message per type', async () => {
    const response = await post({ types: ['echo', 'sleep'], workitem: { fields: { k: 1 } } });
    expect(response.status).toBe(201);
    const { task } = (await response.json()) as { task: { id: string; types: string[] } };
    expect(task.types).toEqual(['echo', 'sleep']);
    const messages = await drain();
    expect(messages.map((m) => m.properties.messageId)).toEqual([task.id, task.id]);
    expect(messages.map((m) => JSON.parse(m.content.toString()).fields.params.worker_type)).toEqual(
      ['echo', 'sleep'],
    );
  });

  it('a task by id; an unknown id is 404 TQ_ERR_API_TASK_NOT_FOUND, never pending', async () => {
    const { task } = (await (await post({ type: 'echo' })).json()) as { task: { id: string } };
    await drain();
    const found = await get(`/v1/tasks/${task.id}`);
    expect(found.status).toBe(200);
    expect(((await found.json()) as { task: { id: string } }).task.id).toBe(task.id);
    const unknown = await get('/v1/tasks/00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe(
      'TQ_ERR_API_TASK_NOT_FOUND',
    );
  });

  it('reply waits for the final state', async () => {
    const response = post({ type: 'echo', reply: 10 });
    // The tracker's part, played by hand: the final state arrives while the submit waits.
    const [message] = await waitForMessages(1);
    const id = message!.properties.messageId as string;
    await api.store.apply({
      event: 'succeeded',
      taskId: id,
      type: 'echo',
      at: new Date().toISOString(),
      attempt: 1,
      result: { ok: true },
    });
    const { task } = (await (await response).json()) as {
      task: { state: string; result: unknown };
    };
    expect(task).toMatchObject({ state: 'succeeded', result: { ok: true } });
  });

  async function waitForMessages(count: number): Promise<amqp.GetMessage[]> {
    const messages: amqp.GetMessage[] = [];
    const deadline = Date.now() + 10_000;
    while (messages.length < count && Date.now() < deadline) {
      messages.push(...(await drain()));
      if (messages.length < count) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return messages;
  }

  it('lists by pages: every task once, newest first, filtered by state and field', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const response = await post({ type: 'pager', fields: { batch: 'p', i } });
      ids.push(((await response.json()) as { task: { id: string } }).task.id);
    }
    await drain();
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const query = `type=pager&limit=3&state=queued&field.batch=p${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const response = await get(`/v1/tasks?${query}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as { tasks: Array<{ id: string }>; next?: string };
      expect(page.tasks.length).toBeLessThanOrEqual(3);
      seen.push(...page.tasks.map((t) => t.id));
      cursor = page.next;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect([...seen].sort()).toEqual([...ids].sort());
    const none = await get('/v1/tasks?type=pager&state=failed');
    expect(((await none.json()) as { tasks: unknown[] }).tasks).toEqual([]);
  });

  describe('bad input: a 4xx with its code, nothing stored, nothing published', () => {
    const cases: Array<[string, () => Promise<Response>, number, string]> = [
      [
        'malformed JSON',
        () => post(undefined, OPERATE_TOKEN, '{"type": "echo",'),
        400,
        'TQ_ERR_API_MALFORMED_JSON',
      ],
      ['an empty body', () => post(undefined, OPERATE_TOKEN, ''), 400, 'TQ_ERR_API_MALFORMED_JSON'],
      [
        'a wrong type (fields a string)',
        () => post({ type: 'echo', fields: 'x' }),
        400,
        'TQ_ERR_API_INVALID_REQUEST',
      ],
      [
        'a wrong type (reply a string)',
        () => post({ type: 'echo', reply: '5' }),
        400,
        'TQ_ERR_API_INVALID_REQUEST',
      ],
      [
        'an unknown field',
        () => post({ type: 'echo', urgency: 9 }),
        400,
        'TQ_ERR_API_INVALID_REQUEST',
      ],
      ['no type', () => post({ fields: {} }), 400, 'TQ_ERR_API_INVALID_REQUEST'],
      [
        'type and types',
        () => post({ type: 'a', types: ['b'] }),
        400,
        'TQ_ERR_API_INVALID_REQUEST',
      ],
      [
        'a reserved type name',
        () => post({ type: 'echo.dead' }),
        400,
        'TQ_ERR_API_INVALID_REQUEST',
      ],
      [
        'reply above the cap',
        () => post({ type: 'echo', reply: 31 }),
        400,
        'TQ_ERR_API_INVALID_REQUEST',
      ],
      [
        'an oversized body',
        () => post({ type: 'echo', fields: { blob: 'x'.repeat(MAX_BODY) } }),
        413,
        'TQ_ERR_API_BODY_TOO_LARGE',
      ],
      [
        'a body that is not JSON',
        () =>
          fetch(`${base}/v1/tasks`, {
            method: 'POST',
            headers: { ...bearer(OPERATE_TOKEN), 'content-type': 'text/plain' },
            body: 'type=echo',
          }),
        415,
        'TQ_ERR_API_MEDIA_TYPE',
      ],
      [
        'no token',
        () =>
          fetch(`${base}/v1/tasks`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"type":"echo"}',
          }),
        401,
        'TQ_ERR_API_UNAUTHENTICATED',
      ],
      [
        'a wrong token',
        () => post({ type: 'echo' }, 'wrong-secret-0123456789'),
        401,
        'TQ_ERR_API_TOKEN_INVALID',
      ],
      [
        'a read token on submit',
        () => post({ type: 'echo' }, READ_TOKEN),
        403,
        'TQ_ERR_API_FORBIDDEN',
      ],
    ];

    it.each(cases)('%s', async (_, send, status, code) => {
      const before = api.store.tasks.size;
      const response = await send();
      expect(response.status).toBe(status);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe(code);
      expect(body.error.message).not.toBe('');
      expect(api.store.tasks.size).toBe(before);
      expect((await channel.checkQueue(QUEUE)).messageCount).toBe(0);
    });

    it('reads: no token 401, a bad query 400, an unknown route 404', async () => {
      const codeOf = async (r: Promise<Response>) =>
        ((await (await r).json()) as { error: { code: string } }).error.code;
      expect(await codeOf(get('/v1/tasks', {}))).toBe('TQ_ERR_API_UNAUTHENTICATED');
      expect(await codeOf(get('/v1/tasks?limit=abc'))).toBe('TQ_ERR_API_INVALID_REQUEST');
      expect(await codeOf(get('/v1/tasks?colour=red'))).toBe('TQ_ERR_API_INVALID_REQUEST');
      expect(await codeOf(get('/v1/tasks?state=pending'))).toBe('TQ_ERR_API_INVALID_REQUEST');
      expect(await codeOf(get('/v1/nothing'))).toBe('TQ_ERR_API_NOT_FOUND');
    });
  });

  it('streams state changes as server-sent events, filtered by type', async () => {
    const ac = new AbortController();
    const stream = await fetch(`${base}/v1/events?type=sse`, {
      headers: bearer(READ_TOKEN),
      signal: ac.signal,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const reader = stream.body!.getReader();
    // The stream's first line says it is open: after it, the subscription is in place.
    let text = new TextDecoder().decode((await reader.read()).value);
    await post({ type: 'other' });
    const { task } = (await (await post({ type: 'sse' })).json()) as { task: { id: string } };
    await drain();
    while (!text.includes('data: ')) text += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    const events = text.split('\n').filter((line) => line.startsWith('data: '));
    expect(events.map((line) => JSON.parse(line.slice(6)))).toEqual([
      expect.objectContaining({ taskId: task.id, state: 'queued', types: ['sse'] }),
    ]);
  });

  it('serves its OpenAPI description', async () => {
    const response = await get('/openapi.json');
    expect(response.status).toBe(200);
    const doc = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/tasks', '/v1/tasks/{id}']));
  });
});
