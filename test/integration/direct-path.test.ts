import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rabbitmqctl } from '@taskqueue/dev/rabbitmq-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TYPES_EXCHANGE } from '../../src/common/amqp/direct-path.js';
import { ERROR_CODE_HEADER, ERROR_HEADER } from '../../src/common/amqp/wire.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import {
  type ApiStack,
  type RunningApi,
  startApiStack,
  startTestApi,
} from '../support/api-program.js';
import { OPERATE_TOKEN, READ_TOKEN } from '../support/api-server.js';
import { brokerInfo, useUser, useVhost } from '../support/broker.js';
import {
  type Program,
  RUN_ROOT,
  runToEnd,
  startDispatcher,
  startPool,
  testConfig,
  writeConfig,
} from '../support/programs.js';
import { parsePromText, sampleValue } from '../support/prom-text.js';

/**
 * The direct path (docs/direct-path.md): `taskqueue submit` publishes to taskqueue.types, the
 * pool's queue is bound there, and whatever no queue is bound for reaches the dispatcher through
 * the alternate exchange. Real programs on a vhost of their own.
 */
const CLI = join(RUN_ROOT, 'dist/cli/main.js');
const taskqueue = (args: string[]) => runToEnd([process.execPath, CLI, ...args]);

/** Publishes `body` to TYPES_EXCHANGE with `key`, mandatory, and waits for the confirm. */
function publishDirect(client: TestClient, key: string, body: string, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    client.channel.publish(
      TYPES_EXCHANGE,
      key,
      Buffer.from(body),
      { persistent: true, mandatory: true, correlationId: id, contentType: 'application/json' },
      (err) => (err ? reject(err) : resolve()),
    );
  });
}

describe('the direct path, served by a pool, beside a dispatcher', () => {
  const token = randomBytes(32).toString('hex');
  let url: string;
  let client: TestClient;
  let config: ReturnType<typeof writeConfig>;
  let dispatcher: Program;
  let pool: Program;
  let port: number;

  /** What the dispatcher counted as received from its input queue. */
  const received = async (): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const samples = parsePromText(await res.text());
    return sampleValue(samples, 'taskqueue_dispatcher_tasks_received_total') ?? 0;
  };

  beforeAll(async () => {
    url = await useVhost('direct-path');
    client = await TestClient.connect(url);
    config = writeConfig('');
    const tokenFile = join(config.dir, 'metrics.token');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    writeFileSync(
      config.file,
      testConfig(url, ['echo'], '[echo]\nworkers = 1\n').replace(
        '[amqp]\n',
        `[dispatcher]\nmetrics_listen = 127.0.0.1:0\nmetrics_token_file = ${tokenFile}\n\n[amqp]\n`,
      ),
    );
    dispatcher = startDispatcher(config.file);
    port = Number(JSON.parse(await dispatcher.waitFor(/metrics endpoint listening/)).port);
    await dispatcher.waitFor(/dispatcher consuming/);
    pool = startPool(config.file);
    await pool.waitForRunning('echo');
  }, 90_000);

  afterAll(async () => {
    await client?.close();
    await Promise.all([dispatcher?.stop(), pool?.stop()]);
    config?.cleanup();
  });

  it('submit to a served type: the result comes back, the dispatcher received nothing', async () => {
    const before = await received();
    const result = await taskqueue(['submit', 'echo', '{"a":1}', '--wait', '-c', config.file]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ fields: { a: 1 } });
    expect(await received()).toBe(before);
  });

  it('submit --via-dispatcher: the dispatcher forwards it, as before', async () => {
    const before = await received();
    const result = await taskqueue([
      'submit',
      'echo',
      '{"b":2}',
      '--wait',
      '--via-dispatcher',
      '-c',
      config.file,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ fields: { b: 2 } });
    expect(await received()).toBe(before + 1);
  });

  it('a type with no queue arrives through the dispatcher, which binds its queue: the next goes direct', async () => {
    const before = await received();
    const first = await taskqueue(['submit', 'unserved', '{"n":1}', '-c', config.file]);
    expect(first.code, first.stderr).toBe(0);
    await expect
      .poll(() => client.messageCount('worker_unserved').catch(() => -1), { timeout: 30_000 })
      .toBe(1);
    expect(await received()).toBe(before + 1);
    const second = await taskqueue(['submit', 'unserved', '{"n":2}', '-c', config.file]);
    expect(second.code, second.stderr).toBe(0);
    await expect.poll(() => client.messageCount('worker_unserved'), { timeout: 30_000 }).toBe(2);
    expect(await received()).toBe(before + 1);
  });

  it('an invalid type published direct by another client is parked with its reason', async () => {
    await publishDirect(client, 'no such/type', workitem('no such/type'), 'invalid-direct');
    const [parked] = await client.collect('taskqueue.invalid', 1, 30_000);
    expect(parked?.properties.correlationId).toBe('invalid-direct');
    expect(String(parked?.properties.headers?.[ERROR_HEADER])).toMatch(/worker type/);
    expect(parked?.properties.headers?.[ERROR_CODE_HEADER]).toBe('TQ_ERR_TASK_INVALID');
  });

  it('both paths mixed: every result, none twice', async () => {
    const count = 20;
    const sent: Promise<void>[] = [];
    for (let n = 0; n < count; n++) {
      const id = `mixed-${n}`;
      sent.push(
        n % 2 === 0
          ? publishDirect(client, 'echo', workitem('echo', { n }), id)
          : client.publish('taskqueue', workitem('echo', { n }), { correlationId: id }),
      );
    }
    await Promise.all(sent);
    const results = await client.collect('results', count, 60_000);
    const ids = results.map((m) => String(m.properties.correlationId)).sort();
    expect(ids).toEqual([...Array(count).keys()].map((n) => `mixed-${n}`).sort());
  });

  it('a delayed task published direct waits in the ladder, then comes due', async () => {
    const before = await received();
    const result = await taskqueue([
      'submit',
      'echo',
      '{"late":true}',
      '--delay',
      '2s',
      '--wait',
      '-c',
      config.file,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/waits until/);
    expect(JSON.parse(result.stdout)).toMatchObject({ fields: { late: true } });
    expect(await received()).toBe(before);
  });

  it('a child binds its queue again after the queue was deleted under it', async () => {
    await client.channel.deleteQueue('worker_echo');
    await pool.waitFor(/consumer cancelled by the broker; consuming again/);
    await expect.poll(() => client.consumerCount('worker_echo'), { timeout: 30_000 }).toBe(1);
    const before = await received();
    const result = await taskqueue(['submit', 'echo', '{"c":3}', '--wait', '-c', config.file]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ fields: { c: 3 } });
    expect(await received()).toBe(before);
  });

  it('refuses a type outside [dispatcher] types before publishing, saying why', async () => {
    const limited = writeConfig(
      `[amqp]\nurl = ${url}\n\n[dispatcher]\ntypes = echo\nmax_body_size = 100\n`,
    );
    try {
      const other = await taskqueue(['submit', 'other', '{}', '-c', limited.file]);
      expect(other.code).not.toBe(0);
      expect(other.stderr).toMatch(/TQ_ERR_TASK_TYPE_NOT_ALLOWED|not in \[dispatcher\] types/);
      const large = await taskqueue([
        'submit',
        'echo',
        JSON.stringify({ pad: 'x'.repeat(200) }),
        '-c',
        limited.file,
      ]);
      expect(large.code).not.toBe(0);
      expect(large.stderr).toMatch(/max_body_size/);
      expect(await client.messageCount('worker_other').catch(() => 0)).toBe(0);
    } finally {
      limited.cleanup();
    }
  });
});

describe('the direct path with the dispatcher down', () => {
  let url: string;
  let client: TestClient;
  let config: ReturnType<typeof writeConfig>;
  let dispatcher: Program | undefined;
  let pool: Program | undefined;

  beforeAll(async () => {
    url = await useVhost('direct-path-down');
    client = await TestClient.connect(url);
    config = writeConfig(testConfig(url, ['echo'], '[echo]\nworkers = 1\n'));
  });

  afterAll(async () => {
    await client?.close();
    await Promise.all([dispatcher?.stop(), pool?.stop()]);
    config?.cleanup();
  });

  it('a task for a type with no queue waits in the input queue, and runs once both start', async () => {
    const submitted = await taskqueue(['submit', 'echo', '{"waited":1}', '-c', config.file]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = submitted.stdout.trim();
    expect(await client.messageCount('taskqueue')).toBe(1);
    dispatcher = startDispatcher(config.file);
    pool = startPool(config.file);
    const [result] = await client.collect('results', 1, 60_000);
    expect(result?.properties.correlationId).toBe(id);
  });
});

describe('the direct path with nowhere to go', () => {
  let url: string;
  let client: TestClient;
  let api: RunningApi;

  beforeAll(async () => {
    url = await useVhost('direct-path-nowhere');
    client = await TestClient.connect(url);
    api = await startTestApi(`[amqp]\nurl = ${url}\nconnect_retries = 60\n`);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await api?.stop();
  });

  it('the API submits direct; with the input queue gone too, the publish is refused, not lost', async () => {
    const ok = await api.post('/v1/tasks', { type: 'echo', fields: { n: 1 } });
    expect(ok.status).toBe(201);
    // No queue is bound for echo: the task went to the input queue through the exchange's AE.
    expect(await client.messageCount('taskqueue')).toBe(1);
    await client.channel.deleteQueue('taskqueue');
    const refused = await api.post('/v1/tasks', { type: 'echo', fields: { n: 2 } });
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(refused.status, JSON.stringify(body)).toBe(503);
    expect(body.error.code).toBe('TQ_ERR_API_PUBLISH');
    expect(body.error.message).toMatch(/no queue receives/);
  });
});

describe('the API submitting direct, with tracking', () => {
  let stack: ApiStack;

  beforeAll(async () => {
    stack = await startApiStack(await useVhost('direct-path-api'), ['echo'], {
      sections: '[dispatcher]\nmax_body_size = 300\n',
    });
    await stack.pool.waitForRunning('echo');
    // From now on only the direct path can bring a task to the pool.
    await stack.dispatcher.stop();
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('a submit with reply ends succeeded with no dispatcher running: queued, then done', async () => {
    const submitted = await stack.call('POST', '/v1/tasks', OPERATE_TOKEN, {
      type: 'echo',
      fields: { n: 1 },
      reply: 30,
    });
    expect(submitted.status).toBe(201);
    const task = submitted.json.task as { id: string; state: string };
    expect(task.state).toBe('succeeded');
    const read = await stack.call('GET', `/v1/tasks/${task.id}`, READ_TOKEN);
    const stored = read.json.task as { state: string; workitem?: unknown; attempts: unknown[] };
    expect(stored.state).toBe('succeeded');
    expect(stored.attempts).toHaveLength(1);
  }, 60_000);

  it('refuses a body above [dispatcher] max_body_size with 413, storing nothing', async () => {
    const big = await stack.call('POST', '/v1/tasks', OPERATE_TOKEN, {
      type: 'echo',
      fields: { pad: 'x'.repeat(400) },
      idempotencyKey: 'too-large',
    });
    expect(big.status).toBe(413);
    expect(big.json.error).toMatchObject({ code: 'TQ_ERR_TASK_TOO_LARGE' });
    const again = await stack.call('POST', '/v1/tasks', OPERATE_TOKEN, {
      type: 'echo',
      fields: { n: 2 },
      idempotencyKey: 'too-large',
      reply: 30,
    });
    // The key was not used by the refused submit: this one is a new task, and it runs.
    expect(again.json.created).toBe(true);
    expect((again.json.task as { state: string }).state).toBe('succeeded');
  }, 60_000);
});

describe('a sender that may not declare the direct path', () => {
  it('submit fails saying why, never reporting success; --via-dispatcher still publishes', async () => {
    const info = brokerInfo();
    if (info.kind !== 'node') throw new Error('permissions are set on a private node only');
    const url = await useVhost('direct-path-perms');
    const user = await useUser('direct-path-perms', 'secret');
    const vhost = decodeURIComponent(new URL(url).pathname.slice(1));
    // May declare the input queue, not the direct path's exchanges.
    await rabbitmqctl(info.node, ['set_permissions', '-p', vhost, user, '^taskqueue$', '.*', '.*']);
    const restricted = new URL(url);
    restricted.username = user;
    restricted.password = 'secret';
    const config = writeConfig(`[amqp]\nurl = ${restricted.href}\nconnect_retries = 1\n`);
    const client = await TestClient.connect(url);
    try {
      const direct = await taskqueue(['submit', 'echo', '{}', '-c', config.file]);
      expect(direct.code).toBe(78);
      expect(direct.stdout).toBe('');
      expect(direct.stderr).toMatch(
        /exchange 'taskqueue\.types\.unrouted'.*TQ_ERR_AMQP_ACCESS_REFUSED/,
      );
      const via = await taskqueue(['submit', 'echo', '{}', '--via-dispatcher', '-c', config.file]);
      expect(via.code, via.stderr).toBe(0);
      expect(await client.messageCount('taskqueue')).toBe(1);
    } finally {
      await client.close();
      config.cleanup();
    }
  });
});
