import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainQueue } from '../../src/common/amqp/queues.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import { type RunningApi, startTestApi } from '../support/api-program.js';
import { bearer, OPERATE_TOKEN, READ_TOKEN, RETRY_TOKEN } from '../support/api-server.js';
import { useVhost } from '../support/broker.js';
import { testConfig } from '../support/programs.js';

/**
 * Queues and dead letters through the real `taskqueue-api` on a real broker (no dispatcher: what
 * is requeued stays on the input queue, to be looked at). The routes run the CLI's own code
 * (`taskqueue queues`, `taskqueue dead`); here: what the API adds — roles, codes, the log line
 * with the token's name, and that the queues hold exactly what the answers say.
 */
const DEAD = 'worker_echo.dead';
const INVALID = 'taskqueue.invalid';

describe('operating routes: queues and dead letters', () => {
  let api: RunningApi;
  let client: TestClient;

  beforeAll(async () => {
    const url = await useVhost('api-operate');
    client = await TestClient.connect(url);
    await client.channel.assertQueue(DEAD, plainQueue(DEAD, 'classic').options);
    await client.channel.assertQueue(INVALID, plainQueue(INVALID, 'classic').options);
    api = await startTestApi(testConfig(url, ['echo']));
  });
  afterAll(async () => {
    await api?.stop();
    await client?.close();
  });

  async function park(queue: string, ids: string[]): Promise<void> {
    for (const id of ids) {
      await client.publish(queue, workitem('echo', { id }), {
        messageId: id,
        headers: {
          'x-taskqueue-error': 'poison: 3 consumers died running this task (max_crashes 3)',
          'x-taskqueue-error-code': 'TQ_ERR_TASK_POISON',
          'x-taskqueue-crashes': 3,
        },
      });
    }
  }
  const json = async (response: Response) => ({
    status: response.status,
    body: (await response.json()) as Record<string, unknown> & {
      error?: { code: string; message: string };
    },
  });
  const ids = (tasks: unknown) => (tasks as Array<{ message_id: string }>).map((t) => t.message_id);

  it('GET /v1/queues: every queue of ours with its figures', async () => {
    await client.channel.purgeQueue(DEAD);
    await park(DEAD, ['q-1', 'q-2']);
    const { status, body } = await json(await api.get('/v1/queues?passive=true'));
    expect(status).toBe(200);
    expect(body.source).toBe('passive');
    const queues = body.queues as Array<{ name: string; role: string; ready: number }>;
    expect(queues.find((q) => q.name === DEAD)).toMatchObject({ role: 'dead', ready: 2 });
    expect(queues.find((q) => q.name === INVALID)).toMatchObject({ role: 'invalid' });
    // The management API when it answers, else passive, saying why: both are a 200.
    const either = await json(await api.get('/v1/queues'));
    expect(either.status).toBe(200);
    expect(['management', 'passive']).toContain(either.body.source);
    expect((await json(await api.get('/v1/queues?passive=maybe'))).body.error?.code).toBe(
      'TQ_ERR_API_INVALID_REQUEST',
    );
  });

  it('lists, requeues by id and drops all; each action logged with the token name', async () => {
    await client.channel.purgeQueue(DEAD);
    await park(DEAD, ['p-0', 'p-1', 'p-2']);

    const listed = await json(await api.get('/v1/dead/echo'));
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ queue: DEAD, total: 3, shown: 3 });
    expect(ids(listed.body.tasks)).toEqual(['p-0', 'p-1', 'p-2']);
    expect((listed.body.tasks as unknown[])[0]).toMatchObject({
      code: 'TQ_ERR_TASK_POISON',
      crashes: 3,
      type: 'echo',
    });
    const limited = await json(await api.get('/v1/dead/echo?limit=1'));
    expect(ids(limited.body.tasks)).toEqual(['p-0']);
    expect(await client.messageCount(DEAD)).toBe(3);

    // A read token may look, not act: nothing moves.
    const forbidden = await json(
      await api.post('/v1/dead/echo/requeue', { all: true }, READ_TOKEN),
    );
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error?.code).toBe('TQ_ERR_API_FORBIDDEN');
    expect(await client.messageCount(DEAD)).toBe(3);

    const requeued = await json(
      await api.post('/v1/dead/echo/requeue', { ids: ['p-1', 'absent'] }),
    );
    expect(requeued.status).toBe(200);
    expect(requeued.body).toEqual({
      queue: DEAD,
      input: 'taskqueue',
      count: 1,
      ids: ['p-1'],
      missing: ['absent'],
      dryRun: false,
    });
    expect(await client.messageCount(DEAD)).toBe(2);
    const [copy] = await client.drain('taskqueue');
    expect(copy?.properties.messageId).toBe('p-1');

    const none = await json(await api.post('/v1/dead/echo/requeue', { ids: ['absent'] }));
    expect(none.status).toBe(404);
    expect(none.body.error?.code).toBe('TQ_ERR_DEAD_NOT_FOUND');

    const dry = await json(await api.post('/v1/dead/echo/drop', { all: true, dryRun: true }));
    expect(dry.body).toMatchObject({ count: 2, ids: ['p-0', 'p-2'], dryRun: true });
    expect(await client.messageCount(DEAD)).toBe(2);
    const dropped = await json(await api.post('/v1/dead/echo/drop', { all: true }));
    expect(dropped.body).toMatchObject({ count: 2, ids: ['p-0', 'p-2'], dryRun: false });
    expect(await client.messageCount(DEAD)).toBe(0);

    const actions = api.program
      .logs()
      .filter((line) => String(line.action).startsWith('dead.'))
      .map((line) => [line.action, line.token, line.count, line.dryRun]);
    expect(actions).toEqual([
      ['dead.requeue', 'operator', 1, false],
      ['dead.requeue', 'operator', 0, false],
      ['dead.drop', 'operator', 2, true],
      ['dead.drop', 'operator', 2, false],
    ]);
  });

  it('a retry token requeues dead letters and invalid input, and may not drop, cancel or submit', async () => {
    await client.channel.purgeQueue(DEAD);
    await client.channel.purgeQueue(INVALID);
    await client.drain('taskqueue');
    await park(DEAD, ['r-0', 'r-1']);
    await park(INVALID, ['r-bad']);

    const requeued = await json(
      await api.post('/v1/dead/echo/requeue', { ids: ['r-0'] }, RETRY_TOKEN),
    );
    expect(requeued.status).toBe(200);
    expect(requeued.body).toMatchObject({ count: 1, ids: ['r-0'] });
    const fromInvalid = await json(
      await api.post('/v1/invalid/requeue', { all: true }, RETRY_TOKEN),
    );
    expect(fromInvalid.body).toMatchObject({ count: 1, ids: ['r-bad'] });
    expect((await client.drain('taskqueue')).map((m) => m.properties.messageId)).toEqual([
      'r-0',
      'r-bad',
    ]);

    const refused: Array<[string, unknown]> = [
      ['/v1/dead/echo/drop', { all: true }],
      ['/v1/invalid/drop', { all: true }],
      ['/v1/tasks/00000000-0000-4000-8000-000000000000/cancel', undefined],
      ['/v1/tasks', { type: 'echo', fields: {} }],
    ];
    for (const [path, body] of refused) {
      const answer = await json(await api.post(path, body, RETRY_TOKEN));
      expect([answer.status, answer.body.error?.code], path).toEqual([403, 'TQ_ERR_API_FORBIDDEN']);
    }
    // Past the guard: the retry route answers for the task, not for the role.
    const retry = await json(
      await api.post('/v1/tasks/00000000-0000-4000-8000-000000000000/retry', {}, RETRY_TOKEN),
    );
    expect([retry.status, retry.body.error?.code]).toEqual([404, 'TQ_ERR_API_TASK_NOT_FOUND']);
    expect(await client.messageCount(DEAD)).toBe(1);
    expect(await client.messageCount('taskqueue')).toBe(0);
    await client.channel.purgeQueue(DEAD);
    expect(
      api.program
        .logs()
        .filter((line) => line.token === 'retrier')
        .map((line) => [line.action, line.count]),
    ).toEqual([
      ['dead.requeue', 1],
      ['dead.requeue', 1],
    ]);
  });

  it('GET /v1/whoami: each token its name, role and what it can do', async () => {
    const whoami = async (token: string) => (await json(await api.get('/v1/whoami', token))).body;
    expect(await whoami(READ_TOKEN)).toEqual({
      name: 'reader',
      role: 'read',
      loopback: false,
      can: { submit: false, retry: false, cancel: false, requeue: false, drop: false },
    });
    expect(await whoami(RETRY_TOKEN)).toEqual({
      name: 'retrier',
      role: 'retry',
      loopback: false,
      can: { submit: false, retry: true, cancel: false, requeue: true, drop: false },
    });
    expect(await whoami(OPERATE_TOKEN)).toEqual({
      name: 'operator',
      role: 'operate',
      loopback: false,
      can: { submit: true, retry: true, cancel: true, requeue: true, drop: true },
    });
    const anonymous = await json(await fetch(`${api.base}/v1/whoami`));
    expect([anonymous.status, anonymous.body.error?.code]).toEqual([
      401,
      'TQ_ERR_API_UNAUTHENTICATED',
    ]);
  });

  it('the daemon logs where the dashboard is', () => {
    expect(api.program.logs().map((line) => line.msg)).toContainEqual(
      expect.stringMatching(new RegExp(`^dashboard: ${api.base}/`)),
    );
  });

  it('the input queue .invalid at /v1/invalid', async () => {
    await park(INVALID, ['bad-1']);
    const listed = await json(await api.get('/v1/invalid'));
    expect(listed.body).toMatchObject({ queue: INVALID, total: 1 });
    const dropped = await json(await api.post('/v1/invalid/drop', { ids: ['bad-1'] }));
    expect(dropped.body).toMatchObject({ count: 1, ids: ['bad-1'], missing: [] });
    expect(await client.messageCount(INVALID)).toBe(0);
  });

  it('bad requests: a clear 4xx with a stable code, and nothing taken', async () => {
    await park(DEAD, ['keep-1']);
    const cases: Array<[string, unknown, number, string]> = [
      ['/v1/dead/echo/requeue', {}, 400, 'TQ_ERR_API_INVALID_REQUEST'],
      ['/v1/dead/echo/requeue', { ids: ['a'], all: true }, 400, 'TQ_ERR_API_INVALID_REQUEST'],
      ['/v1/dead/echo/drop', { ids: [] }, 400, 'TQ_ERR_API_INVALID_REQUEST'],
      ['/v1/dead/echo/drop', { all: 'yes' }, 400, 'TQ_ERR_API_INVALID_REQUEST'],
      ['/v1/dead/echo/drop', { all: true, colour: 1 }, 400, 'TQ_ERR_API_INVALID_REQUEST'],
      ['/v1/dead/no%20such/drop', { all: true }, 400, 'TQ_ERR_API_INVALID_REQUEST'],
      ['/v1/dead/nosuch/drop', { all: true }, 404, 'TQ_ERR_API_QUEUE_NOT_FOUND'],
    ];
    for (const [path, body, status, code] of cases) {
      const answer = await json(await api.post(path, body));
      expect([answer.status, answer.body.error?.code], `${path} ${JSON.stringify(body)}`).toEqual([
        status,
        code,
      ]);
    }
    const unauthenticated = await json(await fetch(`${api.base}/v1/dead/echo`));
    expect(unauthenticated.body.error?.code).toBe('TQ_ERR_API_UNAUTHENTICATED');
    const missing = await json(await api.get('/v1/dead/nosuch'));
    expect([missing.status, missing.body.error?.code]).toEqual([404, 'TQ_ERR_API_QUEUE_NOT_FOUND']);
    expect(await client.messageCount(DEAD)).toBe(1);
  });

  it('the OpenAPI description has the operating routes', async () => {
    const doc = (await (
      await fetch(`${api.base}/openapi.json`, { headers: bearer(READ_TOKEN) })
    ).json()) as { paths: Record<string, unknown> };
    for (const path of [
      '/v1/pools',
      '/v1/queues',
      '/v1/dead/{type}',
      '/v1/dead/{type}/requeue',
      '/v1/dead/{type}/drop',
      '/v1/invalid',
      '/v1/invalid/requeue',
      '/v1/invalid/drop',
      '/v1/whoami',
      '/v1/stats/throughput',
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
  });
});
