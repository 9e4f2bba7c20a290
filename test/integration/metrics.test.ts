import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerQueueDeclaration } from '../../src/common/amqp/queues.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import { childPids } from '../support/processes.js';
import { Program, startDispatcher, testConfig, writeConfig } from '../support/programs.js';
import { parsePromText, type Sample, sampleValue } from '../support/prom-text.js';

/**
 * The metrics endpoints of the real dispatcher and pool, metrics on, against the real broker:
 * tasks that succeed, fail, retry, time out, crash and turn poison, an unreadable one, a parked
 * invalid input, a group that fails, each scraped over HTTP with the token and asserted by label.
 */
describe('metrics of the dispatcher and the pool', () => {
  const token = randomBytes(32).toString('hex');
  let url: string;
  let client: TestClient;
  let config: ReturnType<typeof writeConfig>;
  let dispatcher: Program;
  let pool: Program;
  let dispatcherPort: number;
  let poolPort: number;

  const scrape = async (port: number, auth = `Bearer ${token}`): Promise<Response> =>
    fetch(`http://127.0.0.1:${port}/metrics`, auth ? { headers: { authorization: auth } } : {});
  const samples = async (port: number): Promise<Sample[]> => {
    const res = await scrape(port);
    expect(res.status).toBe(200);
    return parsePromText(await res.text());
  };
  /** Scrapes until `check` holds (the children report at most once a second). */
  const until = async (port: number, check: (s: Sample[]) => boolean, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await samples(port);
      if (check(got)) return got;
      if (Date.now() > deadline)
        throw new Error(
          `metrics never matched:\n${got
            .map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`)
            .filter((l) => l.startsWith('taskqueue_'))
            .join('\n')}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  const portOf = async (program: Program) =>
    Number(JSON.parse(await program.waitFor(/metrics endpoint listening/)).port);
  const finished = (s: Sample[], type: string, outcome: string) =>
    sampleValue(s, 'taskqueue_tasks_finished_total', { type, outcome }) ?? 0;

  beforeAll(async () => {
    url = await useVhost('metrics');
    client = await TestClient.connect(url);
    const metrics = (file: string) =>
      `metrics_listen = 127.0.0.1:0\nmetrics_token_file = ${file}\n`;
    config = writeConfig('');
    const tokenFile = join(config.dir, 'metrics.token');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const text = testConfig(
      url,
      ['echo', 'flaky', 'hang', 'exit-on-task', 'crash-on-start'],
      [
        '[echo]\nworkers = 1',
        '[flaky]\nworkers = 1\nmax_attempts = 2\nretry_delay = 0',
        '[hang]\nworkers = 1\ntimeout = 1\nmax_attempts = 1',
        '[exit-on-task]\nworkers = 2\nmax_crashes = 2',
        '[crash-on-start]\nworkers = 1',
      ].join('\n'),
    )
      .replace('[workerpool]\n', `[workerpool]\n${metrics(tokenFile)}`)
      .replace('[amqp]\n', `[dispatcher]\n${metrics(tokenFile)}\n[amqp]\n`);
    writeFileSync(config.file, text);
    dispatcher = startDispatcher(config.file);
    // Node's own module-loading trace, per process id: what each process loaded, seen from
    // outside (the children inherit the variable, and their stderr is the pool's).
    pool = new Program('workerpool', ['-c', config.file], { NODE_DEBUG: 'esm,module' });
    [dispatcherPort, poolPort] = await Promise.all([portOf(dispatcher), portOf(pool)]);
    await dispatcher.waitFor(/dispatcher consuming/);
    await pool.waitForRunning('echo');
    await pool.waitForRunning('exit-on-task', 2);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([dispatcher?.stop(), pool?.stop()]);
    await client?.close();
    config?.cleanup();
  });

  it('refuses a scrape without the token, or with another one', async () => {
    expect((await scrape(poolPort, '')).status).toBe(401);
    expect((await scrape(dispatcherPort, '')).status).toBe(401);
    expect((await scrape(poolPort, `Bearer ${token.slice(0, -1)}x`)).status).toBe(401);
    expect((await scrape(dispatcherPort, `Basic ${token}`)).status).toBe(401);
    const elsewhere = await fetch(`http://127.0.0.1:${poolPort}/`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(elsewhere.status).toBe(404);
    const info = await samples(poolPort);
    expect(info.find((s) => s.name === 'taskqueue_build_info')?.labels).toMatchObject({
      node: process.versions.node,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
  });

  it('counts what the dispatcher received, forwarded by type and parked by reason', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (let n = 0; n < 3; n++)
      await client.publish('taskqueue', workitem('echo', { n }), { timestamp: now });
    await client.publish('taskqueue', '{"fields": ', { contentType: 'application/json' });
    const got = await until(
      dispatcherPort,
      (s) =>
        sampleValue(s, 'taskqueue_dispatcher_tasks_parked_total', {
          reason: 'TQ_ERR_TASK_INVALID',
        }) === 1 &&
        sampleValue(s, 'taskqueue_dispatcher_tasks_forwarded_total', { type: 'echo' }) === 3,
    );
    expect(sampleValue(got, 'taskqueue_dispatcher_tasks_received_total')).toBe(4);
    expect(
      sampleValue(got, 'taskqueue_dispatcher_tasks_parked_total', {
        reason: 'TQ_ERR_TASK_INVALID',
      }),
    ).toBe(1);
    expect(
      sampleValue(got, 'taskqueue_dispatcher_tasks_parked_total', {
        reason: 'TQ_ERR_TASK_TOO_LARGE',
      }),
    ).toBe(0);
    expect(sampleValue(got, 'taskqueue_dispatcher_connected')).toBe(1);
    // The pool ran the three, observed their time in queue from the timestamp.
    const pooled = await until(poolPort, (s) => finished(s, 'echo', 'succeeded') === 3);
    expect(
      sampleValue(pooled, 'taskqueue_task_queued_seconds_count', { group: 'echo', type: 'echo' }),
    ).toBe(3);
    expect(
      sampleValue(pooled, 'taskqueue_task_run_seconds_count', { group: 'echo', type: 'echo' }),
    ).toBe(3);
  }, 90_000);

  it('counts each outcome by type, with run times, and parks an unreadable task', async () => {
    const publish = async (type: string, body: string) => {
      const { name, options } = workerQueueDeclaration(type, 'classic', undefined);
      await client.channel.assertQueue(name, options);
      await client.publish(name, body);
    };
    await publish('flaky', workitem('flaky', { succeed_on: 2 }));
    await publish('flaky', workitem('flaky', { fatal: true }));
    await publish('hang', workitem('hang', { mode: 'abortable' }));
    await publish('exit-on-task', workitem('exit-on-task', { die: true }));
    await publish('echo', '[1, 2]');
    const got = await until(
      poolPort,
      (s) =>
        finished(s, 'flaky', 'succeeded') === 1 &&
        finished(s, 'flaky', 'failed') === 1 &&
        finished(s, 'hang', 'timed_out') === 1 &&
        finished(s, 'exit-on-task', 'poisoned') === 1 &&
        finished(s, 'echo', 'parked') === 1,
      90_000,
    );
    expect(finished(got, 'flaky', 'retried')).toBe(1);
    // Two consumers died with it: the first death counted as a crash, the second made it poison.
    expect(finished(got, 'exit-on-task', 'crashed')).toBe(1);
    expect(finished(got, 'exit-on-task', 'succeeded')).toBe(0);
    const restarts = (group: string, cause: string) =>
      sampleValue(got, 'taskqueue_child_restarts_total', { group, cause });
    expect(restarts('exit-on-task', 'crash')).toBe(2);
    expect(restarts('echo', 'crash')).toBe(0);
    // The plugin ran flaky three times (two attempts of one task, one of the other) and hang once,
    // past its 1 s timeout.
    expect(sampleValue(got, 'taskqueue_task_run_seconds_count', { group: 'flaky' })).toBe(3);
    expect(
      sampleValue(got, 'taskqueue_task_run_seconds_bucket', { group: 'hang', le: '0.5' }),
    ).toBe(0);
    expect(
      sampleValue(got, 'taskqueue_task_run_seconds_bucket', { group: 'hang', le: '2.5' }),
    ).toBe(1);
    expect(sampleValue(got, 'taskqueue_task_run_seconds_sum', { group: 'hang' })).toBeGreaterThan(
      0.9,
    );
    // Written to the queue straight, without a timestamp: no time in queue observed.
    expect(sampleValue(got, 'taskqueue_task_queued_seconds_count', { group: 'flaky' })).toBe(0);
  }, 120_000);

  it('counts a child killed past its timeout as a `stuck` restart and its task as timed out', async () => {
    const { name, options } = workerQueueDeclaration('hang', 'classic', undefined);
    await client.channel.assertQueue(name, options);
    await client.publish(name, workitem('hang', { mode: 'spin' }));
    const got = await until(
      poolPort,
      (s) =>
        sampleValue(s, 'taskqueue_child_restarts_total', { group: 'hang', cause: 'stuck' }) === 1 &&
        finished(s, 'hang', 'timed_out') === 2,
      60_000,
    );
    expect(finished(got, 'hang', 'crashed')).toBe(0);
  }, 90_000);

  it('shows wanted and running children per group, a failed group, its restarts and RSS', async () => {
    await pool.waitFor(/"code":"TQ_ERR_GROUP_FAILED"/, 90_000);
    const got = await until(poolPort, (s) =>
      ['echo', 'flaky', 'hang', 'exit-on-task'].every(
        (group) =>
          sampleValue(s, 'taskqueue_group_children_running', { group }) ===
          sampleValue(s, 'taskqueue_group_children_wanted', { group }),
      ),
    );
    const gauge = (name: string, group: string) => sampleValue(got, name, { group });
    expect(gauge('taskqueue_group_children_wanted', 'exit-on-task')).toBe(2);
    expect(gauge('taskqueue_group_children_wanted', 'crash-on-start')).toBe(1);
    expect(gauge('taskqueue_group_children_running', 'crash-on-start')).toBe(0);
    expect(gauge('taskqueue_group_failed', 'crash-on-start')).toBe(1);
    expect(gauge('taskqueue_group_failed', 'echo')).toBe(0);
    // Six starts failed (the first and DEFAULT_POLICY's five restarts) before the group failed.
    expect(
      sampleValue(got, 'taskqueue_child_restarts_total', {
        group: 'crash-on-start',
        cause: 'startup_failure',
      }),
    ).toBeGreaterThanOrEqual(6);
    // A Node child is tens of MiB resident; two of them, more.
    const rss = gauge('taskqueue_group_resident_memory_bytes', 'exit-on-task')!;
    expect(rss).toBeGreaterThan(2 * 20 * 1024 ** 2);
    expect(gauge('taskqueue_group_resident_memory_bytes', 'crash-on-start')).toBe(0);
  }, 120_000);

  it('never loads prom-client in a child, while the pool does', () => {
    // Every child the pool started (the dead ones of crash-on-start too), and those alive now.
    const children = new Set([
      ...childPids(pool.pid),
      ...pool.logs().flatMap((l) => (typeof l.childPid === 'number' ? [l.childPid] : [])),
    ]);
    expect(children.size).toBeGreaterThan(6);
    // NODE_DEBUG lines: "ESM 1234: …" and "MODULE 1234: …", one per module a process loads.
    const loads = pool.lines
      .map((line) => /^(?:ESM|MODULE) (\d+): (.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ pid: Number(m[1]), what: m[2]! }));
    const byChildren = loads.filter((l) => children.has(l.pid));
    // The trace does see the children load their own code …
    expect(byChildren.some((l) => l.what.includes('workerpool/child/main.js'))).toBe(true);
    // … and prom-client in the pool, never in a child.
    expect(loads.some((l) => l.pid === pool.pid && l.what.includes('prom-client'))).toBe(true);
    expect(byChildren.filter((l) => l.what.includes('prom-client'))).toEqual([]);
  });
});

describe('a metrics endpoint that cannot work stops its daemon at start', () => {
  it('exits 78 without a readable token, 69 when the address is taken, before connecting', async () => {
    const config = writeConfig('');
    // Nothing listens there: the daemons must stop before they try.
    const unreachable = 'amqp://guest:guest@127.0.0.1:1/';
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as AddressInfo).port;
    try {
      writeFileSync(
        config.file,
        testConfig(unreachable, ['echo']).replace(
          '[amqp]\n',
          `[dispatcher]\nmetrics_listen = 127.0.0.1:0\nmetrics_token_file = ${join(config.dir, 'missing')}\n\n[amqp]\n`,
        ),
      );
      const noToken = startDispatcher(config.file);
      expect((await noToken.exited()).code).toBe(78);
      expect(noToken.logs().some((l) => l.code === 'TQ_ERR_METRICS_TOKEN')).toBe(true);

      writeFileSync(
        config.file,
        testConfig(unreachable, ['echo']).replace(
          '[workerpool]\n',
          `[workerpool]\nmetrics_listen = 127.0.0.1:${taken}\nmetrics_token_file = none\n`,
        ),
      );
      const inUse = new Program('workerpool', ['-c', config.file]);
      expect((await inUse.exited()).code).toBe(69);
      expect(inUse.logs().some((l) => l.code === 'TQ_ERR_METRICS_LISTEN')).toBe(true);
    } finally {
      blocker.close();
      config.cleanup();
    }
  }, 60_000);
});
