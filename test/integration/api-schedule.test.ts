import amqp, { type Channel, type ChannelModel } from 'amqplib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTokens } from '../../src/api/auth/tokens.js';
import { cancelPublisher } from '../../src/api/cancel.js';
import { CANCELLED_DELAYED_ERROR } from '../../src/api/cancel-delayed.js';
import { taskPublisher } from '../../src/api/publish.js';
import { buildServer } from '../../src/api/server.js';
import type { TaskRecord, TaskStore } from '../../src/api/store/types.js';
import { AmqpConnection } from '../../src/common/amqp/connection.js';
import { declareQueue } from '../../src/common/amqp/queues.js';
import { EXPIRES_AT_HEADER, NOT_BEFORE_HEADER, RUN_HEADER } from '../../src/common/amqp/wire.js';
import { createLogger } from '../../src/common/logger.js';
import { testAmqpConfig } from '../support/amqp-config.js';
import { bearer, OPERATE_TOKEN, READ_TOKEN, TEST_TOKENS } from '../support/api-server.js';
import { useVhost } from '../support/broker.js';
import { sqliteBackend } from '../support/stores.js';

/**
 * POST /v1/tasks with priority, notBefore/delay and expiresAt/ttl (issue 30), against the real
 * broker and a real SQLite store: what is published (headers, priority), what is stored (state
 * `delayed`, the times), what is refused before anything is stored or published, the cancel of
 * a delayed task, and the retry of an expired one (published without the old deadline).
 */
const QUEUE = 'taskqueue';
const HOUR = 3_600_000;

describe('taskqueue-api: submitting with a schedule', () => {
  const backend = sqliteBackend();
  let app: FastifyInstance;
  let store: TaskStore;
  let connection: AmqpConnection;
  let inspector: ChannelModel;
  let channel: Channel;

  beforeAll(async () => {
    const url = await useVhost('api-schedule');
    connection = new AmqpConnection(testAmqpConfig(url, 5), {
      name: 'api-schedule-test',
      logger: createLogger('api-schedule-test', 'warn', () => {}),
      setup: (ch) => declareQueue(ch, QUEUE, 'classic'),
    });
    await connection.start();
    store = (await backend.open()).store;
    const tokens = parseTokens(TEST_TOKENS, 'test tokens');
    app = await buildServer({
      store,
      publish: taskPublisher(connection, QUEUE),
      cancel: cancelPublisher(connection),
      tokens: () => tokens,
      loopbackWithoutToken: false,
      maxBodySize: 64 * 1024,
      maxReplyWait: 30,
      log: createLogger('taskqueue-api', 'warn', () => {}),
    });
    inspector = await amqp.connect(url);
    channel = await inspector.createChannel();
  });

  afterAll(async () => {
    await app?.close();
    await connection?.close();
    await inspector?.close().catch(() => {});
    await backend.cleanup();
  });

  const post = async (url: string, payload?: unknown) => {
    const res = await app.inject({
      method: 'POST',
      url,
      headers: bearer(OPERATE_TOKEN),
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  };
  const submit = (payload: Record<string, unknown>) => post('/v1/tasks', payload);
  const task = (body: Record<string, unknown>) => body.task as TaskRecord;
  async function drain(): Promise<amqp.GetMessage[]> {
    const messages: amqp.GetMessage[] = [];
    for (;;) {
      const message = await channel.get(QUEUE, { noAck: true });
      if (message === false) return messages;
      messages.push(message);
    }
  }

  it('publishes notBefore, expiresAt and priority as given; the task is delayed with its times', async () => {
    const notBefore = new Date(Date.now() + HOUR).toISOString();
    const expiresAt = new Date(Date.now() + 2 * HOUR).toISOString();
    const { status, body } = await submit({
      type: 'echo',
      fields: {},
      priority: 9,
      notBefore,
      expiresAt,
    });
    expect(status).toBe(201);
    expect(task(body)).toMatchObject({ state: 'delayed', notBefore, expiresAt });
    const [message, ...rest] = await drain();
    expect(rest).toEqual([]);
    expect(message!.properties.messageId).toBe(task(body).id);
    expect(message!.properties.priority).toBe(9);
    expect(message!.properties.headers).toMatchObject({
      [NOT_BEFORE_HEADER]: notBefore,
      [EXPIRES_AT_HEADER]: expiresAt,
    });
    expect(await store.get(task(body).id)).toMatchObject({
      state: 'delayed',
      notBefore,
      expiresAt,
    });
  });

  it('turns delay and ttl (seconds) into absolute times, the ttl counted from the due time', async () => {
    const before = Date.now();
    const { status, body } = await submit({ type: 'echo', fields: {}, delay: 90, ttl: 30 });
    expect(status).toBe(201);
    const record = task(body);
    expect(record.state).toBe('delayed');
    const due = Date.parse(record.notBefore!);
    expect(due).toBeGreaterThanOrEqual(before + 90_000);
    expect(due).toBeLessThanOrEqual(Date.now() + 90_000);
    expect(Date.parse(record.expiresAt!) - due).toBe(30_000);
    const [message] = await drain();
    expect(message!.properties.headers?.[NOT_BEFORE_HEADER]).toBe(record.notBefore);
    expect(message!.properties.headers?.[EXPIRES_AT_HEADER]).toBe(record.expiresAt);
  });

  it('a ttl alone: queued at once with its deadline; no not-before header', async () => {
    const { body } = await submit({ type: 'echo', fields: {}, ttl: 60 });
    expect(task(body).state).toBe('queued');
    expect(task(body).notBefore).toBeUndefined();
    const [message] = await drain();
    expect(message!.properties.headers?.[NOT_BEFORE_HEADER]).toBeUndefined();
    expect(message!.properties.headers?.[EXPIRES_AT_HEADER]).toBe(task(body).expiresAt);
  });

  it('refuses a bad schedule with its code, storing and publishing nothing', async () => {
    const inAnHour = new Date(Date.now() + HOUR).toISOString();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ delay: -1 }, 'TQ_ERR_DELAY_INVALID', /delay must be 0 or more/],
      [{ delay: 8 * 86_400 }, 'TQ_ERR_DELAY_INVALID', /at most 7 days/],
      [
        { notBefore: '2030-13-01T00:00:00Z' },
        'TQ_ERR_DELAY_INVALID',
        /notBefore .* not an ISO 8601/,
      ],
      [{ notBefore: '2030-01-01T00:00:00' }, 'TQ_ERR_DELAY_INVALID', /with a zone/],
      [{ notBefore: '2020-01-01T00:00:00Z' }, 'TQ_ERR_DELAY_INVALID', /in the past/],
      [{ expiresAt: 'tomorrow' }, 'TQ_ERR_DELAY_INVALID', /expiresAt/],
      [{ notBefore: inAnHour, expiresAt: inAnHour }, 'TQ_ERR_DELAY_INVALID', /not after the time/],
      [{ ttl: 0 }, 'TQ_ERR_DELAY_INVALID', /ttl must be more than 0/],
      [{ delay: 5, notBefore: inAnHour }, 'TQ_ERR_API_INVALID_REQUEST', /not both/],
      [{ ttl: 5, expiresAt: inAnHour }, 'TQ_ERR_API_INVALID_REQUEST', /not both/],
      [{ priority: 256 }, 'TQ_ERR_API_INVALID_REQUEST', /priority/],
      [{ priority: 1.5 }, 'TQ_ERR_API_INVALID_REQUEST', /priority/],
      [{ delay: '10m' }, 'TQ_ERR_API_INVALID_REQUEST', /delay/],
    ];
    const listed = async () =>
      (
        (
          await app.inject({
            method: 'GET',
            url: '/v1/tasks?limit=1000',
            headers: bearer(READ_TOKEN),
          })
        ).json() as { tasks: unknown[] }
      ).tasks.length;
    const stored = await listed();
    for (const [fields, code, message] of cases) {
      const { status, body } = await submit({ type: 'echo', fields: {}, ...fields });
      const error = body.error as { code: string; message: string };
      expect(status, JSON.stringify(fields)).toBe(400);
      expect(error.code, JSON.stringify(fields)).toBe(code);
      expect(error.message, JSON.stringify(fields)).toMatch(message);
    }
    expect(await listed()).toBe(stored);
    expect(await drain()).toEqual([]);
  });

  it('lists delayed tasks by ?state=delayed', async () => {
    const { body } = await submit({ type: 'listed', fields: {}, delay: 600 });
    await drain();
    const res = await app.inject({
      method: 'GET',
      url: '/v1/tasks?state=delayed&type=listed',
      headers: bearer(READ_TOKEN),
    });
    expect(res.statusCode).toBe(200);
    const { tasks } = res.json() as { tasks: TaskRecord[] };
    expect(tasks.map((t) => [t.id, t.state, t.notBefore])).toEqual([
      [task(body).id, 'delayed', task(body).notBefore],
    ]);
  });

  it('cancels a delayed task at once: cancelled in the store, the cancel published', async () => {
    const notBefore = new Date(Date.now() + HOUR).toISOString();
    const { body } = await submit({ type: 'echo', fields: {}, notBefore });
    await drain();
    const id = task(body).id;
    const cancelled = await post(`/v1/tasks/${id}/cancel`);
    expect(cancelled.status).toBe(202);
    expect(task(cancelled.body)).toMatchObject({ id, state: 'cancelled', notBefore });
    expect(await store.get(id)).toMatchObject({
      state: 'cancelled',
      attempts: [],
      finishedAt: expect.any(String),
    });
    // The child's own `cancelled` when the task comes due changes nothing.
    expect(await store.apply({ event: 'cancelled', taskId: id, type: 'echo', at: notBefore })).toBe(
      false,
    );
    // A second cancel: it is final already.
    expect((await post(`/v1/tasks/${id}/cancel`)).status).toBe(409);
    expect(CANCELLED_DELAYED_ERROR).toMatch(/TQ_ERR_TASK_CANCELLED/);
  });

  it('retries an expired task as a new run: published at once, without the old deadline', async () => {
    const expiresAt = new Date(Date.now() + HOUR).toISOString();
    const { body } = await submit({ type: 'echo', fields: { n: 7 }, priority: 3, expiresAt });
    await drain();
    const id = task(body).id;
    // What a child says of it past its deadline (helper ladder's side, as the contract gives it).
    await store.apply({
      event: 'expired',
      taskId: id,
      type: 'echo',
      at: new Date().toISOString(),
      attempt: 1,
      errorCode: 'TQ_ERR_TASK_EXPIRED',
      error: `task expired at ${expiresAt} before it started (TQ_ERR_TASK_EXPIRED): not run`,
      result: { fields: { n: 7 }, error: 'expired' },
    });
    expect(await store.get(id)).toMatchObject({ state: 'expired', result: { error: 'expired' } });
    const retried = await app.inject({
      method: 'POST',
      url: `/v1/tasks/${id}/retry`,
      headers: bearer(OPERATE_TOKEN),
    });
    expect(retried.statusCode).toBe(200);
    expect((retried.json() as { task: TaskRecord }).task).toMatchObject({
      state: 'queued',
      run: 2,
      expiresAt,
    });
    const [message, ...rest] = await drain();
    expect(rest).toEqual([]);
    expect(message!.properties.headers?.[RUN_HEADER]).toBe(2);
    expect(message!.properties.headers?.[EXPIRES_AT_HEADER]).toBeUndefined();
    expect(message!.properties.headers?.[NOT_BEFORE_HEADER]).toBeUndefined();
  });

  it('describes the new fields in its OpenAPI', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/openapi.json',
      headers: bearer(READ_TOKEN),
    });
    expect(res.statusCode).toBe(200);
    const text = res.body;
    for (const field of ['priority', 'notBefore', 'delay', 'expiresAt', 'ttl']) {
      expect(text).toContain(`"${field}"`);
    }
  });
});
