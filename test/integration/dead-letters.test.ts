import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { plainQueue } from '../../src/common/amqp/queues.js';
import type { QueueType } from '../../src/common/config/types.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import {
  type Program,
  ROOT,
  runToEnd,
  startDispatcher,
  startPool,
  testConfig,
  writeConfig,
} from '../support/programs.js';

const CLI = join(ROOT, 'dist/cli/main.js');

/** Runs the real `taskqueue` with `-c file`; stdin closed at once (not a terminal). */
const taskqueue = (file: string, args: string[]) =>
  runToEnd([process.execPath, CLI, ...args, '-c', file]);

interface Listed {
  queue: string;
  total: number;
  shown: number;
  tasks: Array<Record<string, unknown>>;
}

async function listed(file: string, args: string[]): Promise<Listed> {
  const result = await taskqueue(file, ['dead', 'list', ...args, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Listed;
}

const ids = (messages: ConsumeMessage[]) => messages.map((m) => m.properties.messageId);

/**
 * Runs the real `taskqueue` on a terminal (a pty from util-linux `script`) and types `answer`
 * once the question `[y/N]` shows; resolves with its exit status and what the terminal showed.
 */
async function onTerminal(file: string, args: string[], answer: string) {
  const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;
  const command = [process.execPath, CLI, ...args, '-c', file].map(quote).join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    env: { ...process.env, TASKQUEUE_AMQP_URL: '' },
  });
  let output = '';
  let asked = false;
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (!asked && output.includes('[y/N]')) {
      asked = true;
      child.stdin.write(`${answer}\n`);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output, asked };
}

describe('dead letters of a real dispatcher and pool', () => {
  const type = 'exit-until-file';
  let url: string;
  let client: TestClient;
  let config: ReturnType<typeof writeConfig>;
  let dispatcher: Program;
  let pool: Program;
  let dir: string;

  beforeAll(async () => {
    url = await useVhost('dead-real');
    client = await TestClient.connect(url);
    dir = mkdtempSync(join(tmpdir(), 'tq-dead-'));
    // The children run as nobody: they must see the marker file appear.
    chmodSync(dir, 0o755);
    config = writeConfig(testConfig(url, [type], `[${type}]\nworkers = 1\nmax_crashes = 2\n`));
    dispatcher = startDispatcher(config.file);
    pool = startPool(config.file);
    await dispatcher.waitFor(/dispatcher consuming/);
    await pool.waitForRunning(type);
  });
  afterAll(async () => {
    await Promise.all([dispatcher?.stop(), pool?.stop()]);
    await client?.close();
    config?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists a poisoned task and a parked invalid input with reason and code, takes neither, and a requeued one runs again', async () => {
    const marker = join(dir, 'go');
    const poison = workitem(type, { until_file: marker });
    await client.publish('taskqueue', poison, { messageId: 'poison-1', correlationId: 'poison-1' });
    await client.publish('taskqueue', 'not json', { messageId: 'bad-1' });
    const [failed] = await client.collect('results', 1, 90_000);
    expect(failed?.properties.correlationId).toBe('poison-1');
    const dead = `worker_${type}.dead`;
    await expect.poll(() => client.messageCount(dead), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => client.messageCount('taskqueue.invalid'), { timeout: 10_000 }).toBe(1);

    for (let look = 0; look < 2; look++) {
      const parked = await listed(config.file, [type]);
      expect(parked).toMatchObject({ queue: dead, total: 1, shown: 1 });
      expect(parked.tasks[0]).toMatchObject({
        message_id: 'poison-1',
        type,
        code: 'TQ_ERR_TASK_POISON',
        crashes: 2,
        reason: expect.stringMatching(/^poison: 2 consumers died/),
        parked_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        bytes: Buffer.byteLength(poison),
      });
      expect(parked.tasks[0]!.crash_log).toHaveLength(2);
      const invalid = await listed(config.file, ['--invalid']);
      expect(invalid.tasks).toEqual([
        expect.objectContaining({
          message_id: 'bad-1',
          type: null,
          code: 'TQ_ERR_TASK_INVALID',
          parked_at: expect.stringMatching(/^\d{4}-/),
        }),
      ]);
      expect(await client.messageCount(dead)).toBe(1);
      expect(await client.messageCount('taskqueue.invalid')).toBe(1);
    }

    // The cause is gone: requeued, the task runs again and succeeds.
    writeFileSync(marker, '');
    const requeued = await taskqueue(config.file, ['dead', 'requeue', type, '--id', 'poison-1']);
    expect(requeued.code, requeued.stderr).toBe(0);
    expect(requeued.stdout).toMatch(/requeued 1 task/);
    const [result] = await client.collect('results', 1, 60_000);
    expect(result?.properties.correlationId).toBe('poison-1');
    const body = JSON.parse(result!.content.toString()) as Record<string, unknown>;
    expect(body.error).toBeUndefined();
    expect((body.fields as Record<string, unknown>).ran_pid).toEqual(expect.any(Number));
    expect(await client.messageCount(dead)).toBe(0);
    expect(await client.messageCount('taskqueue.invalid')).toBe(1);
  });

  it('requeues a parked invalid input (parked again while it is still invalid, not taken twice) and drops it', async () => {
    const before = await listed(config.file, ['--invalid']);
    expect(before.tasks.map((t) => t.message_id)).toEqual(['bad-1']);
    const requeued = await taskqueue(config.file, ['dead', 'requeue', '--invalid', '--all']);
    expect(requeued.code, requeued.stderr).toBe(0);
    expect(requeued.stdout).toMatch(/requeued 1 task/);
    // Still not JSON: the dispatcher parks it again, with the first parking in its history.
    await expect
      .poll(async () => (await listed(config.file, ['--invalid'])).tasks[0]?.requeued, {
        timeout: 10_000,
      })
      .toBe(1);
    const again = await listed(config.file, ['--invalid']);
    expect(again.tasks).toEqual([
      expect.objectContaining({ message_id: 'bad-1', code: 'TQ_ERR_TASK_INVALID' }),
    ]);
    const dropped = await taskqueue(config.file, ['dead', 'drop', '--invalid', '--all', '--yes']);
    expect(dropped.code, dropped.stderr).toBe(0);
    expect(dropped.stdout).toMatch(/dropped 1 task/);
    expect(await client.messageCount('taskqueue.invalid')).toBe(0);
  });
});

describe.each<QueueType>(['classic', 'quorum'])(
  'dead requeue, drop and purge on %s queues of known content',
  (queueType) => {
    const dead = 'worker_echo.dead';
    let client: TestClient;
    let config: ReturnType<typeof writeConfig>;

    beforeAll(async () => {
      // No dispatcher: what is requeued stays on the input queue, to be looked at.
      const url = await useVhost(`dead-known-${queueType}`);
      client = await TestClient.connect(url);
      config = writeConfig(
        testConfig(url, ['echo']).replace(
          'connect_retries = 60\n',
          `connect_retries = 60\nqueue_type = ${queueType}\n`,
        ),
      );
      await client.channel.assertQueue(dead, plainQueue(dead, queueType).options);
    });
    beforeEach(async () => {
      await client.channel.purgeQueue(dead);
      await client.channel.deleteQueue('taskqueue');
    });
    afterAll(async () => {
      await client?.close();
      config?.cleanup();
    });

    /** Parks `count` tasks p-0… as a child parks a poison task. */
    async function park(count: number, prefix = 'p-'): Promise<void> {
      const sent: Promise<void>[] = [];
      for (let n = 0; n < count; n++) {
        sent.push(
          client.publish(dead, workitem('echo', { n }), {
            messageId: `${prefix}${n}`,
            headers: {
              'x-taskqueue-error': 'poison: 3 consumers died running this task (max_crashes 3)',
              'x-taskqueue-error-code': 'TQ_ERR_TASK_POISON',
              'x-taskqueue-crashes': 3,
              'x-taskqueue-crash-log': ['c1', 'c2', 'c3'],
              'x-taskqueue-attempt': 2,
              'x-taskqueue-parked-at': '2026-12-06T20:00:00.000Z',
              'x-other': 'kept',
            },
          }),
        );
        if (sent.length >= 500) await Promise.all(sent.splice(0));
      }
      await Promise.all(sent);
    }

    it('list leaves every task in place, in its order', async () => {
      await park(5);
      for (let look = 0; look < 3; look++) {
        const parked = await listed(config.file, ['echo']);
        expect(parked.tasks.map((t) => t.message_id)).toEqual(['p-0', 'p-1', 'p-2', 'p-3', 'p-4']);
      }
      const limited = await listed(config.file, ['echo', '--limit', '2']);
      expect(limited).toMatchObject({ total: 5, shown: 2 });
      expect(ids(await client.drain(dead))).toEqual(['p-0', 'p-1', 'p-2', 'p-3', 'p-4']);
    });

    it('requeue --dry-run says which would go and changes nothing', async () => {
      await park(3);
      const dry = await taskqueue(config.file, ['dead', 'requeue', 'echo', '--all', '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(/would requeue 3 task/);
      expect(dry.stdout).toContain('p-2');
      expect(await client.messageCount(dead)).toBe(3);
      expect(await client.messageCount('taskqueue')).toBe(0);
    });

    it('requeue --id moves exactly that task, counts cleared and kept as history; the rest stay in order', async () => {
      await park(4);
      const result = await taskqueue(config.file, ['dead', 'requeue', 'echo', '--id', 'p-2']);
      expect(result.code, result.stderr).toBe(0);
      const [moved, ...more] = await client.drain('taskqueue');
      expect(more).toEqual([]);
      expect(moved!.properties.messageId).toBe('p-2');
      expect(moved!.content.toString()).toBe(workitem('echo', { n: 2 }));
      const headers = moved!.properties.headers ?? {};
      for (const cleared of [
        'x-taskqueue-error',
        'x-taskqueue-error-code',
        'x-taskqueue-crashes',
        'x-taskqueue-crash-log',
        'x-taskqueue-attempt',
        'x-taskqueue-parked-at',
      ])
        expect(headers[cleared], cleared).toBeUndefined();
      expect(headers['x-other']).toBe('kept');
      const history = headers['x-taskqueue-history'] as unknown[];
      expect(history).toHaveLength(1);
      expect(JSON.parse(String(history[0]))).toMatchObject({
        from: dead,
        error_code: 'TQ_ERR_TASK_POISON',
        crashes: 3,
        crash_log: ['c1', 'c2', 'c3'],
        attempt: 2,
        parked_at: '2026-12-06T20:00:00.000Z',
      });
      expect(ids(await client.drain(dead))).toEqual(['p-0', 'p-1', 'p-3']);
    });

    it('requeue --all moves every task in order; an id not parked exits 1 with TQ_ERR_DEAD_NOT_FOUND', async () => {
      await park(3);
      const missing = await taskqueue(config.file, ['dead', 'requeue', 'echo', '--id', 'nope']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('TQ_ERR_DEAD_NOT_FOUND');
      expect(await client.messageCount(dead)).toBe(3);
      const all = await taskqueue(config.file, ['dead', 'requeue', 'echo', '--all']);
      expect(all.code, all.stderr).toBe(0);
      expect(ids(await client.drain('taskqueue'))).toEqual(['p-0', 'p-1', 'p-2']);
      expect(await client.messageCount(dead)).toBe(0);
    });

    it('drop deletes only the chosen tasks, and without --yes nor a terminal refuses', async () => {
      await park(3);
      const refused = await taskqueue(config.file, ['dead', 'drop', 'echo', '--id', 'p-1']);
      expect(refused.code).toBe(64);
      expect(refused.stderr).toContain('TQ_ERR_CLI_USAGE');
      expect(await client.messageCount(dead)).toBe(3);
      const dropped = await taskqueue(config.file, [
        'dead',
        'drop',
        'echo',
        '--id',
        'p-1',
        '--yes',
      ]);
      expect(dropped.code, dropped.stderr).toBe(0);
      expect(dropped.stdout).toMatch(/dropped 1 task/);
      expect(ids(await client.drain(dead))).toEqual(['p-0', 'p-2']);
    });

    it('on a terminal, drop and purge ask, and do nothing unless the answer is yes', async () => {
      await park(3);
      const no = await onTerminal(config.file, ['dead', 'drop', 'echo', '--id', 'p-1'], 'n');
      expect(no).toMatchObject({ code: 1, asked: true });
      expect(no.output).toContain('nothing dropped');
      expect(await client.messageCount(dead)).toBe(3);
      const yes = await onTerminal(config.file, ['dead', 'drop', 'echo', '--id', 'p-1'], 'y');
      expect(yes).toMatchObject({ code: 0, asked: true });
      expect(ids(await client.drain(dead))).toEqual(['p-0', 'p-2']);
      await park(2);
      const purged = await onTerminal(config.file, ['purge', dead], 'yes');
      expect(purged).toMatchObject({ code: 0, asked: true });
      expect(purged.output).toMatch(/purged 2 message/);
      expect(await client.messageCount(dead)).toBe(0);
    });

    it('loses nothing when the CLI is killed in the middle of a requeue', async () => {
      const total = 10_000;
      await park(total, 'k-');
      const cli = spawn(
        process.execPath,
        [CLI, 'dead', 'requeue', 'echo', '--all', '-c', config.file],
        {
          stdio: 'ignore',
          env: { ...process.env, TASKQUEUE_AMQP_URL: '' },
        },
      );
      const exited = new Promise((resolve) => cli.once('exit', resolve));
      await expect
        .poll(() => client.messageCount('taskqueue').catch(() => 0), {
          timeout: 30_000,
          interval: 5,
        })
        .toBeGreaterThan(200);
      cli.kill('SIGKILL');
      await exited;
      // The broker puts back what the dead connection held once it notices it closed.
      await expect
        .poll(
          async () => (await client.messageCount(dead)) + (await client.messageCount('taskqueue')),
          { timeout: 10_000 },
        )
        .toBeGreaterThanOrEqual(total);
      const left = await client.messageCount(dead);
      expect(left, 'killed before it was done').toBeGreaterThan(0);
      const seen = new Set([
        ...ids(await client.collect(dead, left, 30_000)),
        ...ids(await client.collect('taskqueue', await client.messageCount('taskqueue'), 30_000)),
      ]);
      const lost = Array.from({ length: total }, (_, n) => `k-${n}`).filter((id) => !seen.has(id));
      expect(lost).toEqual([]);
    });

    it('purge --yes empties a queue of ours and says how many; refuses without a terminal, and a queue not ours', async () => {
      await park(3);
      const refused = await taskqueue(config.file, ['purge', dead]);
      expect(refused.code).toBe(64);
      expect(refused.stderr).toContain('TQ_ERR_CLI_USAGE');
      await client.declare('other-app');
      await client.publish('other-app', 'theirs');
      const foreign = await taskqueue(config.file, ['purge', 'other-app', '--yes']);
      expect(foreign.code).toBe(64);
      expect(foreign.stderr).toContain('TQ_ERR_CLI_NOT_OUR_QUEUE');
      expect(await client.messageCount('other-app')).toBe(1);
      expect(await client.messageCount(dead)).toBe(3);
      const purged = await taskqueue(config.file, ['purge', dead, '--yes']);
      expect(purged.code, purged.stderr).toBe(0);
      expect(purged.stdout).toMatch(/purged 3 message/);
      expect(await client.messageCount(dead)).toBe(0);
    });
  },
);
