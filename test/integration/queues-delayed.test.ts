import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTokens } from '../../src/api/auth/tokens.js';
import { buildServer } from '../../src/api/server.js';
import { delayQueue } from '../../src/common/amqp/delay-names.js';
import { createLogger } from '../../src/common/logger.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import { READ_TOKEN, TEST_TOKENS } from '../support/api-server.js';
import { useVhost } from '../support/broker.js';
import { MemoryTaskStore } from '../support/memory-store.js';
import { ROOT, runToEnd, testConfig, writeConfig } from '../support/programs.js';

/**
 * `taskqueue queues` and `taskqueue tasks --state delayed` with delayed tasks (issue 30), the
 * real program against the real broker: level queues of the delay ladder holding tasks (declared
 * here without their TTL, so that they stay put while looked at), and an API whose store knows
 * the delayed tasks. Passive declares only: the grouping of the management API's answer is the
 * same function (test/unit/cli/queues-delayed.test.ts).
 */

const CLI = join(ROOT, 'dist/cli/main.js');

interface Report {
  queues: Array<{ name: string; role: string; ready: number | null }>;
  delayed: {
    total: number | null;
    levels: Array<{ level: number; tasks: number | null; holds_ms: number }>;
    due_within_ms: number | null;
    soonest: Array<{ id: string; type: string; due: string }> | null;
    soonest_note: string | null;
  };
}

describe('taskqueue queues and tasks with delayed tasks', () => {
  let client: TestClient;
  let config: ReturnType<typeof writeConfig>;
  let app: FastifyInstance;
  let api: string;
  const store = new MemoryTaskStore();
  const due = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
  const soon = { first: due(4), second: due(90) };

  const taskqueue = (args: string[]) =>
    runToEnd([process.execPath, CLI, ...args, '-c', config.file], {
      env: { TASKQUEUE_API_URL: '', TASKQUEUE_API_TOKEN: '' },
    });

  beforeAll(async () => {
    const url = await useVhost('queues-delayed');
    client = await TestClient.connect(url);
    config = writeConfig(testConfig(url, ['echo']));
    await client.declare('taskqueue');
    for (const [level, count] of [
      [3, 2],
      [10, 1],
    ] as const) {
      await client.declare(delayQueue(level));
      for (let n = 0; n < count; n++) await client.publish(delayQueue(level), workitem('echo'));
    }
    // What the tracker would have recorded: three delayed, one already running.
    const received = (taskId: string, type: string, notBefore: string) =>
      store.apply({ event: 'received', taskId, type, at: new Date().toISOString(), notBefore });
    await received('later', 'report', soon.second);
    await received('sooner', 'echo', soon.first);
    await received('latest', 'echo', due(6 * 60));
    await received('started', 'echo', due(1));
    await store.apply({
      event: 'started',
      taskId: 'started',
      type: 'echo',
      attempt: 1,
      at: new Date().toISOString(),
    });
    const tokens = parseTokens(TEST_TOKENS, 'test tokens');
    app = await buildServer({
      store,
      publish: async () => {},
      tokens: () => tokens,
      loopbackWithoutToken: false,
      maxBodySize: 64 * 1024,
      maxReplyWait: 30,
      log: createLogger('taskqueue-api', 'warn', () => {}),
    });
    api = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await app?.close();
    await client?.close();
    config?.cleanup();
  });

  it('groups the level queues as one delayed row, and lists the soonest from the API (JSON)', async () => {
    const result = await taskqueue([
      'queues',
      '--passive',
      '--json',
      '--api',
      api,
      '--token',
      READ_TOKEN,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    const delayedRows = report.queues.filter((q) => q.name.startsWith('taskqueue.delay'));
    expect(delayedRows).toEqual([
      expect.objectContaining({ name: 'taskqueue.delay.*', role: 'delayed', ready: 3 }),
    ]);
    expect(report.delayed).toMatchObject({
      total: 3,
      levels: [
        { level: 3, tasks: 2, holds_ms: 800 },
        { level: 10, tasks: 1, holds_ms: 102_400 },
      ],
      due_within_ms: 204_700,
      soonest_note: null,
    });
    expect(report.delayed.soonest).toEqual([
      { id: 'sooner', type: 'echo', due: soon.first },
      { id: 'later', type: 'report', due: soon.second },
      { id: 'latest', type: 'echo', due: expect.any(String) },
    ]);
  });

  it('prints the ladder line and the soonest tasks with their due time (text)', async () => {
    const result = await taskqueue(['queues', '--passive', '--api', api, '--token', READ_TOKEN]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^taskqueue\.delay\.\*\s+delayed\s+3\s/));
    expect(lines).toContain(
      'delayed: 3 tasks in levels 03-10 (hold 800ms to 1m 42s each); all due within 3m 25s',
    );
    const at = lines.indexOf('soonest delayed tasks (API):');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^ {2}sooner {2}echo {4}due \d\d:\d\d:\d\dZ, in [34]m$/);
    expect(lines[at + 2]).toMatch(/^ {2}later {3}report {2}due .*, in 1h (29|30)m$/);
  });

  it('says how to list them when no API is configured', async () => {
    const result = await taskqueue(['queues', '--passive']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^delayed: 3 tasks in levels 03-10/m);
    expect(result.stdout).toMatch(
      /^delayed tasks: `taskqueue tasks --state delayed` lists them with their due time/m,
    );
    expect(result.stdout).not.toMatch(/soonest delayed tasks/);
  });

  it('says the API did not answer, and still shows the queues', async () => {
    const result = await taskqueue(['queues', '--passive', '--api', 'http://127.0.0.1:9']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^delayed tasks: not listed \(API http:\/\/127\.0\.0\.1:9 did not answer.*TQ_ERR_CLI_API_UNREACHABLE/m,
    );
  });

  it('taskqueue tasks --state delayed shows each one due time in a DUE column', async () => {
    const result = await taskqueue([
      'tasks',
      '--state',
      'delayed',
      '--api',
      api,
      '--token',
      READ_TOKEN,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const [header, ...rows] = result.stdout.trim().split('\n');
    expect(header!.split(/\s+/)).toEqual(['ID', 'STATE', 'TYPE', 'CREATED', 'FINISHED', 'DUE']);
    const sooner = rows.find((line) => line.startsWith('sooner '));
    expect(sooner?.split(/\s+/).at(-1)).toBe(soon.first);
    expect(rows).toHaveLength(3);
  });

  it('taskqueue task shows a delayed task waiting until its time', async () => {
    const result = await taskqueue(['task', 'sooner', '--api', api, '--token', READ_TOKEN]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`  waits until ${soon.first}`);
    expect(result.stdout).toMatch(/state {5}delayed/);
  });
});
