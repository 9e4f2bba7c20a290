import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBrokerVersion } from '../../src/common/amqp/broker-features.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import {
  type Program,
  startDispatcher,
  startPool,
  testConfig,
  writeConfig,
} from '../support/programs.js';

/** A config whose [amqp] also says `queue_type`. */
const withQueueType = (text: string, queueType: 'classic' | 'quorum') =>
  text.replace('[amqp]\n', `[amqp]\nqueue_type = ${queueType}\n`);

/** Priorities of a backlog, published in this order: low ones first, so FIFO would fail. */
const BACKLOG: Array<number | undefined> = [
  ...Array<undefined>(4).fill(undefined),
  ...Array<number>(4).fill(0),
  ...Array<number>(4).fill(2),
  ...Array<number>(4).fill(5),
  ...Array<number>(4).fill(9), // above max_priority: the broker counts it as 5
];

describe('priorities on a classic worker queue (max_priority = 5)', () => {
  let client: TestClient;
  let dispatcher: Program;
  let pool: Program | undefined;
  let config: ReturnType<typeof writeConfig>;

  beforeAll(async () => {
    const url = await useVhost('priorities-classic');
    config = writeConfig(
      testConfig(url, ['echo'], '[echo]\nworkers = 1\nprefetch = 1\nmax_priority = 5\n'),
    );
    dispatcher = startDispatcher(config.file);
    await dispatcher.waitFor(/dispatcher consuming/);
    client = await TestClient.connect(url);
  });

  afterAll(async () => {
    await client?.close();
    await Promise.all([dispatcher?.stop(), pool?.stop()]);
    config?.cleanup();
  });

  it('says what applies at start', async () => {
    await dispatcher.waitFor(
      /worker_echo: 5 priority levels above 0 \(classic, x-max-priority 5\)/,
    );
  });

  it('answers a backlog highest priority first, in publishing order within a priority', async () => {
    for (const [n, priority] of BACKLOG.entries()) {
      await client.publish('taskqueue', workitem('echo', { n }), {
        correlationId: `task-${n}`,
        ...(priority === undefined ? {} : { priority }),
      });
    }
    // The whole backlog waits on worker_echo before any consumer exists.
    await expect
      .poll(() => client.messageCount('worker_echo').catch(() => 0), { timeout: 30_000 })
      .toBe(BACKLOG.length);
    pool = startPool(config.file);
    const results = await client.collect('results', BACKLOG.length, 60_000);
    const order = results.map((m) => Number(String(m.properties.correlationId).slice(5)));
    // One child taking one task at a time: the broker's order is the order of the results.
    const rank = (n: number) => Math.min(BACKLOG[n] ?? 0, 5);
    const expected = [...BACKLOG.keys()].sort((a, b) => rank(b) - rank(a) || a - b);
    expect(order).toEqual(expected);
  });
});

/** The broker's version, as the programs will read it. */
async function brokerVersion(url: string): Promise<string> {
  const client = await TestClient.connect(url);
  try {
    return String(client.connection.connection.serverProperties.version);
  } finally {
    await client.close();
  }
}

describe('a max_priority the broker cannot honour on quorum queues', () => {
  let url: string;
  let version: string;
  let config: ReturnType<typeof writeConfig>;
  const programs: Program[] = [];

  beforeAll(async () => {
    url = await useVhost('priorities-quorum');
    version = await brokerVersion(url);
  });

  afterAll(async () => {
    await Promise.all(programs.map((p) => p.stop()));
    config?.cleanup();
  });

  it('stops the dispatcher with exit 78, naming type, queue_type, version and what is accepted', async () => {
    // No RabbitMQ quorum queue has more than 32 levels (0–31, from 4.3), none before 4.0.
    config = writeConfig(
      withQueueType(testConfig(url, ['echo'], '[echo]\nmax_priority = 32\n'), 'quorum'),
    );
    const dispatcher = startDispatcher(config.file);
    programs.push(dispatcher);
    const { code } = await dispatcher.exited();
    expect(code).toBe(78);
    const refusal = dispatcher.logs().find((l) => l.code === 'TQ_ERR_PRIORITY_UNSUPPORTED');
    expect(refusal?.msg).toMatch(
      new RegExp(
        `^\\[echo\\] max_priority = 32 cannot be honoured with queue_type = quorum on RabbitMQ ${version.replaceAll('.', '\\.')}: .*This broker accepts `,
      ),
    );
    expect(dispatcher.lines.some((l) => /dispatcher consuming/.test(l))).toBe(false);
  });

  it('fails the pool group like a config refusal: its children fail to start, then GROUP FAILED', async () => {
    const pool = startPool(config.file);
    programs.push(pool);
    await pool.waitFor(/child failed to start: \[echo\] max_priority = 32 cannot be honoured/);
    // Restarted with a growing delay and then paused, not in a loop (workerpool.md "Restarts").
    await pool.waitFor(/GROUP FAILED/, 60_000);
    const starts = pool.logs().filter((l) => l.msg === 'child state' && l.to === 'starting');
    expect(starts.length).toBeLessThanOrEqual(7);
    expect(pool.logs().some((l) => l.msg === 'child state' && l.to === 'running')).toBe(false);
  });

  it('max_priority = 1: refused before RabbitMQ 4.0, two levels on 4.0–4.2, strict from 4.3', async () => {
    const own = writeConfig(
      withQueueType(testConfig(url, ['echo'], '[echo]\nmax_priority = 1\n'), 'quorum'),
    );
    try {
      const dispatcher = startDispatcher(own.file);
      programs.push(dispatcher);
      const parsed = parseBrokerVersion(version)!;
      if (parsed.major < 4) {
        expect((await dispatcher.exited()).code).toBe(78);
        const refusal = dispatcher.logs().find((l) => l.code === 'TQ_ERR_PRIORITY_UNSUPPORTED');
        expect(refusal?.msg).toMatch(
          /quorum queues have no message priorities before RabbitMQ 4\.0\. This broker accepts no max_priority on quorum queues; with queue_type = classic, max_priority 1–255/,
        );
      } else if (parsed.major === 4 && parsed.minor < 3) {
        await dispatcher.waitFor(/worker_echo: two levels normal\/high \(quorum, RabbitMQ /);
        await dispatcher.waitFor(/dispatcher consuming/);
      } else {
        await dispatcher.waitFor(/worker_echo: 1 priority levels above 0, strict \(quorum/);
        await dispatcher.waitFor(/dispatcher consuming/);
      }
    } finally {
      own.cleanup();
    }
  });
});

describe('an existing worker queue declared without priorities', () => {
  let config: ReturnType<typeof writeConfig>;
  let pool: Program | undefined;

  afterAll(async () => {
    await pool?.stop();
    config?.cleanup();
  });

  it('fails the child with TQ_ERR_AMQP_QUEUE_MISMATCH saying how to move the queue', async () => {
    const url = await useVhost('priorities-mismatch');
    const client = await TestClient.connect(url);
    await client.declare('worker_echo'); // durable classic, no x-max-priority
    await client.close();
    config = writeConfig(testConfig(url, ['echo'], '[echo]\nmax_priority = 3\n'));
    pool = startPool(config.file);
    const line = await pool.waitFor(/child failed to start: .*x-max-priority/);
    const entry = JSON.parse(line) as { code?: string; msg: string };
    expect(entry.code).toBe('TQ_ERR_AMQP_QUEUE_MISMATCH');
    expect(entry.msg).toMatch(/max_priority/);
    expect(entry.msg).toMatch(/taskqueue purge/);
    expect(entry.msg).toMatch(/delete it \(rabbitmqctl delete_queue\) and restart/);
  });
});
