import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/api/store/types.js';
import { OPERATE_TOKEN, READ_TOKEN, TEST_TOKENS } from '../support/api-server.js';
import { useVhost } from '../support/broker.js';
import {
  type Program,
  startApi,
  startDispatcher,
  startPool,
  testConfig,
  writeConfig,
} from '../support/programs.js';

/**
 * What an operator does after a task ended badly, through `taskqueue-api` as installed (SQLite
 * store, tracker, a real dispatcher and pool with [tracking] on): a fan-out with a failing type
 * ends `incomplete` with both responses; a poisoned task retried runs again.
 */
describe('taskqueue-api: fan-out outcomes and retry, for real', () => {
  const programs: Program[] = [];
  let cleanup = () => {};
  let base = '';

  beforeAll(async () => {
    const url = await useVhost('api-retry');
    const config = writeConfig('');
    cleanup = config.cleanup;
    const tokens = join(config.dir, 'api.tokens');
    writeFileSync(tokens, TEST_TOKENS);
    chmodSync(tokens, 0o600);
    writeFileSync(
      config.file,
      testConfig(
        url,
        ['echo', 'throw', 'exit-until-file'],
        `[exit-until-file]\nworkers = 1\nmax_crashes = 2\n\n[tracking]\nenabled = yes\n\n[api]\nlisten = 127.0.0.1:0\ntokens_file = ${tokens}\nstore = ${join(config.dir, 'tasks.db')}\n`,
      ),
    );
    const api = startApi(config.file);
    const pool = startPool(config.file);
    programs.push(api, startDispatcher(config.file), pool);
    const listening = JSON.parse(await api.waitFor(/API listening/)) as { port: number };
    base = `http://127.0.0.1:${listening.port}`;
    await api.waitFor(/"msg":"ready"/);
    await pool.waitForRunning('exit-until-file');
  }, 60_000);

  afterAll(async () => {
    await Promise.all(programs.map((program) => program.stop()));
    cleanup();
  });

  async function call(
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

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
});
