import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/api/store/types.js';
import { type ApiStack, startApiStack } from '../support/api-program.js';
import { OPERATE_TOKEN, READ_TOKEN } from '../support/api-server.js';
import { useVhost } from '../support/broker.js';
import { openPostgres } from '../support/postgres-node.js';

/**
 * Where the daemon keeps its tasks: a SQLite file in the test's dir, or a PostgreSQL database of
 * this run's own (created here, dropped after).
 */
interface StoreUnderTest {
  name: string;
  open(dir: string): Promise<{ location: string; drop: () => Promise<void> }>;
}

const STORES: StoreUnderTest[] = [
  {
    name: 'SQLite',
    open: async (dir) => ({ location: join(dir, 'tasks.db'), drop: async () => {} }),
  },
  {
    name: 'PostgreSQL',
    async open() {
      const server = await openPostgres();
      const database = `tq_api_retry_${process.pid}_${Date.now().toString(36)}`;
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${database}"`);
      await admin.end();
      const url = new URL(server.url);
      url.pathname = `/${database}`;
      return {
        location: url.toString(),
        drop: async () => {
          const c = new pg.Client({ connectionString: server.url });
          await c.connect();
          await c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
          await c.end();
          await server.stop();
        },
      };
    },
  },
];

/**
 * What an operator does after a task ended badly, through `taskqueue-api` as installed (its
 * store, tracker, a real dispatcher and pool with [tracking] on): a fan-out with a failing type
 * ends `incomplete` with both responses; a poisoned task retried runs again.
 */
describe.each(STORES)('taskqueue-api on $name: fan-out outcomes and retry, for real', (backend) => {
  let stack: ApiStack | undefined;
  let dropStore = async () => {};
  let dir = '';
  const call = (method: string, path: string, token: string, body?: unknown) =>
    stack!.call(method, path, token, body);

  beforeAll(async () => {
    const url = await useVhost(`api-retry-${backend.name.toLowerCase()}`);
    // The children run as nobody: the file they wait for must be where they can look.
    dir = mkdtempSync(join(tmpdir(), 'tq-api-retry-'));
    chmodSync(dir, 0o755);
    const store = await backend.open(dir);
    dropStore = store.drop;
    stack = await startApiStack(url, ['echo', 'throw', 'exit-until-file'], {
      sections: '[exit-until-file]\nworkers = 1\nmax_crashes = 2\n',
      store: store.location,
    });
    await stack.pool.waitForRunning('exit-until-file');
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    await dropStore();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a fan-out to echo and throw ends incomplete, each response with its own outcome', async () => {
    const submitted = await call('POST', '/v1/tasks', OPERATE_TOKEN, {
      types: ['echo', 'throw'],
      fields: { n: 5 },
      reply: 30,
    });
    expect(submitted.status).toBe(201);
    const task = submitted.json.task as TaskRecord;
    expect(task.state).toBe('incomplete');
    const stored = (await call('GET', `/v1/tasks/${task.id}`, READ_TOKEN)).json.task as TaskRecord;
    expect(stored).toMatchObject({ state: 'incomplete', types: ['echo', 'throw'] });
    expect(stored.finishedAt).toBeDefined();
    const [echo, thrown] = stored.responses;
    expect(echo).toMatchObject({ type: 'echo', state: 'succeeded' });
    expect((echo!.result as { fields: { n: number } }).fields.n).toBe(5);
    expect(echo!.error).toBeUndefined();
    expect(thrown).toMatchObject({ type: 'throw', state: 'failed' });
    expect(thrown!.error).toContain('boom on 5');
    const listed = await call('GET', '/v1/tasks?state=incomplete', READ_TOKEN);
    expect((listed.json.tasks as TaskRecord[]).map((t) => t.id)).toContain(task.id);
  }, 60_000);

  it('a poisoned task retried runs again: each run crashes anew up to max_crashes, the last succeeds', async () => {
    const untilFile = join(dir, 'let-it-run');
    const submitted = await call('POST', '/v1/tasks', OPERATE_TOKEN, {
      type: 'exit-until-file',
      fields: { until_file: untilFile },
      reply: 60,
    });
    const first = submitted.json.task as TaskRecord;
    expect(first.state).toBe('poisoned');
    expect(first.run).toBeUndefined();
    expect(first.attempts.at(-1)!.crashLog).toHaveLength(2);

    // Run 2, the file still missing: run again from a fresh count, not poisoned at once.
    const second = await call('POST', `/v1/tasks/${first.id}/retry`, OPERATE_TOKEN, { reply: 60 });
    expect(second.status).toBe(200);
    const again = second.json.task as TaskRecord;
    expect(again).toMatchObject({ id: first.id, state: 'poisoned', run: 2 });
    const run2 = again.attempts.filter((a) => a.run === 2);
    expect(run2).toHaveLength(1);
    // Two deaths of run 2's own, each a child that took the task: it ran twice more.
    expect(run2[0]!.crashLog).toHaveLength(2);
    expect(run2[0]!.crashLog!.join('\n')).not.toBe(first.attempts.at(-1)!.crashLog!.join('\n'));
    // Run 1's attempt is kept as it was.
    expect(again.attempts.filter((a) => a.run === undefined)).toEqual(first.attempts);

    // Run 3, the file made: it runs and succeeds.
    writeFileSync(untilFile, '');
    const third = await call('POST', `/v1/tasks/${first.id}/retry`, OPERATE_TOKEN, { reply: 60 });
    const done = third.json.task as TaskRecord;
    expect(done).toMatchObject({ id: first.id, state: 'succeeded', run: 3 });
    expect((done.result as { fields: { ran_pid: number } }).fields.ran_pid).toBeGreaterThan(0);
    expect(done.attempts.find((a) => a.run === 3)?.endedAt).toBeDefined();
    // Succeeded: a retry is refused with its code.
    const refused = await call('POST', `/v1/tasks/${first.id}/retry`, OPERATE_TOKEN);
    expect(refused.status).toBe(409);
    expect((refused.json.error as { code: string }).code).toBe('TQ_ERR_API_NOT_RETRYABLE');
  }, 180_000);

  it('an incomplete fan-out retried runs only its failed type', async () => {
    const submitted = await call('POST', '/v1/tasks', OPERATE_TOKEN, {
      types: ['echo', 'throw'],
      fields: { n: 9 },
      reply: 30,
    });
    const task = submitted.json.task as TaskRecord;
    expect(task.state).toBe('incomplete');
    const retried = await call('POST', `/v1/tasks/${task.id}/retry`, OPERATE_TOKEN, { reply: 30 });
    const after = retried.json.task as TaskRecord;
    expect(after).toMatchObject({ state: 'incomplete', run: 2 });
    // echo's answer is the first run's; throw failed again in run 2.
    expect(after.responses[0]).toEqual(task.responses[0]);
    expect(after.responses[1]).toMatchObject({ type: 'throw', state: 'failed' });
    expect(after.attempts.filter((a) => a.run === 2)).toHaveLength(1);
  }, 60_000);
});
