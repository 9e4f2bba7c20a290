import type { ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { DELAY_LEVELS, delayQueue } from '../../src/common/amqp/delay-names.js';
import { workerQueueDeclaration } from '../../src/common/amqp/queues.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import { childPids } from '../support/processes.js';
import {
  type Program,
  startDispatcher,
  startPool,
  testConfig,
  writeConfig,
} from '../support/programs.js';
import { useTestScope } from '../support/scope.js';

type QueueType = 'classic' | 'quorum';

interface ResultBody {
  fields: Record<string, unknown>;
  error?: string;
  trace?: string;
}
const body = (m: ConsumeMessage) => JSON.parse(m.content.toString()) as ResultBody;
const header = (m: ConsumeMessage, name: string) => m.properties.headers?.[name];

/** The test config with `queue_type = quorum`, for a broker whose queues are classic. */
function quorumConfig(url: string): string {
  return testConfig(url, ['echo']).replace(
    'connect_retries = 60\n',
    'connect_retries = 60\nqueue_type = quorum\n',
  );
}

/** SPEC §1 *Failure*, *Crash*, *Timeout*, against the real pool, on classic and quorum queues. */
describe.each<QueueType>(['classic', 'quorum'])('failures on %s queues', (queueType) => {
  const scope = useTestScope(`failures-${queueType}`);

  function pool(type: string, section: string): Program {
    const text = testConfig(scope.url, [type], `[${type}]\n${section}\n`);
    return scope.program(
      text.replace('connect_retries = 60\n', `connect_retries = 60\nqueue_type = ${queueType}\n`),
    );
  }

  async function publish(type: string, id: string, fields: Record<string, unknown>) {
    const { name, options } = workerQueueDeclaration(type, queueType, undefined);
    await scope.client.channel.assertQueue(name, options);
    await scope.client.publish(name, workitem(type, fields), { correlationId: id });
  }

  const resultsFor = (messages: ConsumeMessage[], prefix: string) =>
    messages.filter((m) => String(m.properties.correlationId).startsWith(prefix));

  it('retries a failing task through the broker and reports one success, on attempt 3', async () => {
    const program = pool('flaky', 'workers = 1\nmax_attempts = 5\nretry_delay = 0.2');
    await program.waitFor(/"to":"running"/);
    await publish('flaky', 'retry-1', { succeed_on: 3 });
    const [result] = await scope.client.collect('results', 1, 30_000);
    expect(result).toBeDefined();
    expect(result!.properties.correlationId).toBe('retry-1');
    expect(body(result!).fields.succeeded_on).toBe(3);
    expect(body(result!).error).toBeUndefined();
    expect(header(result!, 'x-attempts')).toBe(3);
    // The two waits were in the broker: 200 ms, then 400 ms, each jittered down by up to 25 %.
    const scheduled = program.logs().filter((l) => l.msg === 'task failed; retry scheduled');
    const delays = scheduled.map((l) => l.delayMs as number);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(150);
    expect(delays[0]).toBeLessThanOrEqual(200);
    expect(delays[1]).toBeGreaterThanOrEqual(300);
    expect(delays[1]).toBeLessThanOrEqual(400);
    expect(await scope.client.drain('results')).toEqual([]);
  });

  it('keeps a waiting retry in the broker across a restart of the pool', async () => {
    const first = pool('flaky', 'workers = 1\nmax_attempts = 2\nretry_delay = 3');
    await first.waitFor(/"to":"running"/);
    await publish('flaky', 'survive-1', { succeed_on: 2 });
    await first.waitFor(/retry scheduled/);
    await first.stop();
    // It waits in the delay ladder (docs/delays.md), in one of its levels, not in a process.
    let waiting = 0;
    for (let level = 0; level < DELAY_LEVELS; level++)
      waiting += await scope.client.messageCount(delayQueue(level));
    expect(waiting).toBe(1);
    expect(await scope.client.messageCount('worker_flaky')).toBe(0);
    const second = pool('flaky', 'workers = 1\nmax_attempts = 2\nretry_delay = 3');
    const [result] = await scope.client.collect('results', 1, 30_000);
    expect(result?.properties.correlationId).toBe('survive-1');
    expect(body(result!).fields.succeeded_on).toBe(2);
    expect(second.logs().some((l) => l.msg === 'task failed')).toBe(false);
  });

  it('reports the last failure once attempts run out, and skips retries for a non-retryable error', async () => {
    const program = pool('flaky', 'workers = 1\nmax_attempts = 2\nretry_delay = 0');
    await program.waitFor(/"to":"running"/);
    await publish('flaky', 'exhaust-1', { succeed_on: 10 });
    await publish('flaky', 'fatal-1', { fatal: true });
    const results = await scope.client.collect('results', 2, 30_000);
    const exhausted = resultsFor(results, 'exhaust-1');
    const fatal = resultsFor(results, 'fatal-1');
    expect(exhausted).toHaveLength(1);
    expect(body(exhausted[0]!).error).toBe('flaky: attempt 2 fails');
    expect(body(exhausted[0]!).trace).toContain('flaky: attempt 2 fails');
    expect(header(exhausted[0]!, 'x-attempts')).toBe(2);
    expect(fatal).toHaveLength(1);
    expect(body(fatal[0]!).error).toBe('fatal: retrying cannot fix this');
    expect(header(fatal[0]!, 'x-attempts')).toBe(1);
    expect(await scope.client.drain('results')).toEqual([]);
  });

  it('parks a poison task after max_crashes deaths, with each crash recorded, and answers the others', async () => {
    const type = 'exit-on-task';
    const program = pool(type, 'workers = 2\nmax_crashes = 3');
    await program.waitFor(/"to":"running"/);
    for (let n = 0; n < 5; n++) await publish(type, `good-${n}`, { n });
    await publish(type, 'poison-1', { die: true });
    for (let n = 5; n < 10; n++) await publish(type, `good-${n}`, { n });
    const results = await scope.client.collect('results', 11, 90_000);
    expect(
      resultsFor(results, 'good-')
        .map((m) => Number(body(m).fields.n))
        .sort((a, b) => a - b),
    ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const poison = resultsFor(results, 'poison-1');
    expect(poison).toHaveLength(1);
    expect(body(poison[0]!).error).toMatch(/^poison: 3 consumers died/);
    const dead = await scope.client.collect(`worker_${type}.dead`, 1, 10_000);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.properties.correlationId).toBe('poison-1');
    expect(header(dead[0]!, 'x-taskqueue-crashes')).toBe(3);
    const log = header(dead[0]!, 'x-taskqueue-crash-log') as unknown[];
    expect(log).toHaveLength(3);
    for (const line of log) expect(String(line)).toMatch(/ended with exit code 7/);
    expect(dead[0]!.content.toString()).toBe(workitem(type, { die: true }));
    // Three children died, every one replaced: the group is still serving.
    expect(program.logs().some((l) => l.code === 'TQ_ERR_GROUP_FAILED')).toBe(false);
    expect(await scope.client.drain('results')).toEqual([]);
  });

  it('fails a task past its timeout: the signal first, then the child, and never a crash', async () => {
    const program = pool('hang', 'workers = 1\ntimeout = 1\nmax_attempts = 1');
    await program.waitFor(/"to":"running"/);
    const firstChild = childPids(program.pid)[0];
    await publish('hang', 'abortable-1', { mode: 'abortable' });
    await publish('hang', 'ignore-1', { mode: 'ignore' });
    await publish('hang', 'spin-1', { mode: 'spin' });
    await publish('hang', 'quick-1', { mode: 'quick' });
    const results = await scope.client.collect('results', 4, 60_000);
    for (const id of ['abortable-1', 'ignore-1', 'spin-1']) {
      const [result, ...more] = resultsFor(results, id);
      expect(more).toEqual([]);
      expect(body(result!).error, id).toMatch(/timed out after 1 s/);
    }
    expect(body(resultsFor(results, 'quick-1')[0]!).fields.pid).not.toBe(firstChild);
    // `ignore` made its child leave for a successor; `spin` got its child killed.
    expect(
      program.logs().some((l) => l.msg === 'child stuck past its task timeout; killing it'),
    ).toBe(true);
    expect(program.logs().some((l) => String(l.reason).includes('hung past its timeout'))).toBe(
      true,
    );
    expect(program.logs().some((l) => l.code === 'TQ_ERR_TASK_CRASHED')).toBe(false);
    expect(await scope.client.drain(`worker_hang.dead`)).toEqual([]);
  });
});

describe('queue declarations', () => {
  it('warns at start about a group without a timeout (the broker cuts long deliveries)', async () => {
    const url = await useVhost('failures-warning');
    const config = writeConfig(testConfig(url, ['echo'], '[echo]\nworkers = 1\n'));
    const program = startPool(config.file);
    try {
      await program.waitFor(
        /has no timeout: a task running longer than the broker's consumer_timeout/,
      );
    } finally {
      await program.stop();
      config.cleanup();
    }
  });

  it('says clearly that a queue exists with other arguments, and exits 78', async () => {
    const url = await useVhost('failures-mismatch');
    const client = await TestClient.connect(url);
    await client.declare('taskqueue'); // classic; the dispatcher below wants quorum
    const config = writeConfig(quorumConfig(url));
    const dispatcher = startDispatcher(config.file);
    try {
      const { code } = await dispatcher.exited();
      expect(code).toBe(78);
      expect(dispatcher.logs().some((l) => l.code === 'TQ_ERR_AMQP_QUEUE_MISMATCH')).toBe(true);
    } finally {
      await client.close();
      config.cleanup();
    }
  });

  it('forwards to a worker queue that exists with other arguments, and says so once', async () => {
    const url = await useVhost('failures-mismatch-worker');
    const client = await TestClient.connect(url);
    await client.declare('worker_echo'); // classic; the dispatcher below wants quorum
    const config = writeConfig(quorumConfig(url));
    const dispatcher = startDispatcher(config.file);
    try {
      await dispatcher.waitFor(/dispatcher consuming/);
      for (let n = 0; n < 3; n++) await client.publish('taskqueue', workitem('echo', { n }));
      await expect.poll(() => client.messageCount('worker_echo'), { timeout: 10_000 }).toBe(3);
      const mismatches = dispatcher
        .logs()
        .filter((l) => l.code === 'TQ_ERR_AMQP_QUEUE_MISMATCH' && l.queue === 'worker_echo');
      expect(mismatches).toHaveLength(1);
      expect(dispatcher.lines.some((line) => line.includes('broker connection lost'))).toBe(false);
      expect(dispatcher.process.exitCode).toBeNull();
    } finally {
      await dispatcher.stop();
      await client.close();
      config.cleanup();
    }
  });
});
