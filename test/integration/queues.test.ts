import { join } from 'node:path';
import { RabbitNode } from '@taskqueue/dev/rabbitmq-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  plainQueue,
  retryQueueDeclaration,
  workerQueueDeclaration,
} from '../../src/common/amqp/queues.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import { ROOT, runToEnd, testConfig, writeConfig } from '../support/programs.js';

const CLI = join(ROOT, 'dist/cli/main.js');

interface Row {
  name: string;
  role: string;
  exists: boolean;
  ready: number | null;
  unacked: number | null;
  consumers: number | null;
  rate_in: number | null;
  rate_out: number | null;
}
interface Report {
  source: string;
  management_error: { code: string } | null;
  unknown: string[];
  queues: Row[];
}

async function queues(file: string, args: string[]): Promise<Report> {
  const result = await runToEnd([process.execPath, CLI, 'queues', '--json', ...args, '-c', file]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Report;
}

const byName = (report: Report) => new Map(report.queues.map((row) => [row.name, row]));

/**
 * A known state: 2 tasks waiting on the input queue, 1 parked invalid input, 3 tasks for echo of
 * which a consumer holds 1 unacked, 1 parked echo task, an empty retry queue; and a queue of
 * another application. Returns the client holding the consumer.
 */
async function knownState(url: string): Promise<TestClient> {
  const client = await TestClient.connect(url);
  const declare = (d: { name: string; options: object }) =>
    client.channel.assertQueue(d.name, d.options);
  await declare(plainQueue('taskqueue', 'classic'));
  await declare(plainQueue('taskqueue.invalid', 'classic'));
  await declare(workerQueueDeclaration('echo', 'classic', undefined));
  await declare(plainQueue('worker_echo.dead', 'classic'));
  await declare(retryQueueDeclaration('echo', 1000, 'classic'));
  await client.declare('other-app');
  for (let n = 0; n < 2; n++) await client.publish('taskqueue', workitem('echo', { n }));
  await client.publish('taskqueue.invalid', 'not json');
  for (let n = 0; n < 3; n++) await client.publish('worker_echo', workitem('echo', { n }));
  await client.publish('worker_echo.dead', workitem('echo'));
  const holder = await client.connection.createChannel();
  await holder.prefetch(1);
  await new Promise<void>((resolve) => {
    // Never acked: one unacked while the channel lives.
    void holder.consume('worker_echo', () => resolve());
  });
  return client;
}

/** The echo group retries after 1 s, then 2 s: its retry queues are known by name. */
const ECHO_SECTION = '[echo]\nworkers = 1\nmax_attempts = 3\nretry_delay = 1\n';

describe('taskqueue queues without the management API (passive declares)', () => {
  let client: TestClient;
  let config: ReturnType<typeof writeConfig>;

  beforeAll(async () => {
    const url = await useVhost('queues-passive');
    client = await knownState(url);
    config = writeConfig(testConfig(url, ['echo'], ECHO_SECTION));
  });
  afterAll(async () => {
    await client?.close();
    config?.cleanup();
  });

  it('shows ready and consumers of every queue the config names, and says what it cannot tell', async () => {
    const report = await queues(config.file, ['--passive']);
    expect(report.source).toBe('passive');
    expect(report.unknown).toEqual(expect.arrayContaining(['unacked', 'rate in', 'rate out']));
    const rows = byName(report);
    const look = (name: string) => {
      const row = rows.get(name);
      return row && { exists: row.exists, ready: row.ready, consumers: row.consumers };
    };
    expect(look('taskqueue')).toEqual({ exists: true, ready: 2, consumers: 0 });
    expect(look('taskqueue.invalid')).toEqual({ exists: true, ready: 1, consumers: 0 });
    expect(look('worker_echo')).toEqual({ exists: true, ready: 2, consumers: 1 });
    expect(look('worker_echo.dead')).toEqual({ exists: true, ready: 1, consumers: 0 });
    expect(look('worker_echo.retry.1000ms')).toEqual({ exists: true, ready: 0, consumers: 0 });
    // Known by name but never made: left out (a retry queue appears with its first retry).
    expect(rows.has('worker_echo.retry.2000ms')).toBe(false);
    expect(rows.has('other-app')).toBe(false);
    expect(rows.get('worker_echo')?.unacked).toBeNull();
    expect(rows.get('worker_echo')?.rate_in).toBeNull();
  });

  it('looks at a type given with --type too, and shows its worker queue missing', async () => {
    const report = await queues(config.file, ['--passive', '--type', 'shell']);
    expect(byName(report).get('worker_shell')).toMatchObject({ exists: false, ready: null });
  });

  it('prints a table saying the source', async () => {
    const result = await runToEnd([
      process.execPath,
      CLI,
      'queues',
      '--passive',
      '-c',
      config.file,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^source: passive/);
    expect(lines.find((line) => line.startsWith('worker_echo '))?.split(/\s+/)).toEqual([
      'worker_echo',
      'worker',
      '2',
      '-',
      '1',
      '-',
      '-',
    ]);
  });
});

describe('taskqueue queues with the management API (a private node with the plugin)', () => {
  let node: RabbitNode;
  let client: TestClient;
  let config: ReturnType<typeof writeConfig>;

  beforeAll(async () => {
    // Free ports, chosen by RabbitNode (which retries on a clash): a fixed one in the ephemeral
    // range was once taken by another test's outgoing connection, and the node could not start.
    node = await RabbitNode.start({ management: true });
    const mgmtPort = new URL(node.mgmtUrl!).port;
    client = await knownState(node.url);
    const text = testConfig(node.url, ['echo'], ECHO_SECTION).replace(
      'connect_retries = 60\n',
      `connect_retries = 60\nmanagement_url = http://127.0.0.1:${mgmtPort}\n`,
    );
    config = writeConfig(text);
  });
  afterAll(async () => {
    await client?.close();
    await node?.destroy();
    config?.cleanup();
  });

  it('lists every queue of ours with ready, unacked, consumers and rates, and no other', async () => {
    // The API's figures are sampled every few seconds: wait until they show the known state.
    await expect
      .poll(
        async () => {
          const row = byName(await queues(config.file, []))?.get('worker_echo');
          return row && { ready: row.ready, unacked: row.unacked, consumers: row.consumers };
        },
        { timeout: 30_000, interval: 1_000 },
      )
      .toEqual({ ready: 2, unacked: 1, consumers: 1 });
    const report = await queues(config.file, []);
    expect(report.source).toBe('management');
    expect(report.unknown).toEqual([]);
    const rows = byName(report);
    expect(rows.get('taskqueue')).toMatchObject({ ready: 2, unacked: 0, consumers: 0 });
    expect(rows.get('taskqueue.invalid')).toMatchObject({ ready: 1 });
    expect(rows.get('worker_echo.dead')).toMatchObject({ ready: 1 });
    expect(rows.get('worker_echo.retry.1000ms')).toMatchObject({ ready: 0 });
    expect(rows.get('worker_echo')?.rate_in).toEqual(expect.any(Number));
    expect(rows.has('other-app')).toBe(false);
  });

  it('falls back to passive declares, saying why, when the API does not answer', async () => {
    const report = await queues(config.file, ['--management', 'http://127.0.0.1:48749']);
    expect(report.source).toBe('passive');
    expect(report.management_error?.code).toBe('TQ_ERR_MANAGEMENT_API');
    expect(byName(report).get('worker_echo')).toMatchObject({ ready: 2, consumers: 1 });
  });
});
