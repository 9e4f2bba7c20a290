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
 * What `[api]` says of keeping tasks, in the daemon as installed: a result past `result_cap` is
 * cut and the record says so; a succeeded task goes after `keep_succeeded`, a failed one stays
 * for `keep_failed`.
 */
describe('taskqueue-api retention and caps', () => {
  const programs: Program[] = [];
  let cleanup = () => {};
  let base = '';

  beforeAll(async () => {
    const url = await useVhost('api-retention');
    const config = writeConfig('');
    cleanup = config.cleanup;
    const tokens = join(config.dir, 'api.tokens');
    writeFileSync(tokens, TEST_TOKENS);
    chmodSync(tokens, 0o600);
    writeFileSync(
      config.file,
      testConfig(
        url,
        ['echo', 'throw'],
        [
          '[tracking]',
          'enabled = yes',
          '[api]',
          'listen = 127.0.0.1:0',
          `tokens_file = ${tokens}`,
          `store = ${join(config.dir, 'tasks.db')}`,
          // About 4 s: long enough to read the record after its reply, short for the test.
          'keep_succeeded = 0.00005',
          'keep_failed = 1',
          'sweep_interval = 1',
          'result_cap = 200',
          '',
        ].join('\n'),
      ),
    );
    const api = startApi(config.file);
    programs.push(api, startDispatcher(config.file), startPool(config.file));
    const listening = JSON.parse(await api.waitFor(/API listening/)) as { port: number };
    base = `http://127.0.0.1:${listening.port}`;
    await api.waitFor(/"msg":"ready"/);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(programs.map((program) => program.stop()));
    cleanup();
  });

  async function call(method: string, path: string, token: string, body?: unknown) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as { task: TaskRecord } };
  }

  it('cuts a result past result_cap, saying so and the cap', async () => {
    const { json } = await call('POST', '/v1/tasks', OPERATE_TOKEN, {
      type: 'echo',
      fields: { text: 'x'.repeat(1000) },
      reply: 30,
    });
    expect(json.task.state).toBe('succeeded');
    const read = await call('GET', `/v1/tasks/${json.task.id}`, READ_TOKEN);
    expect(read.json.task.resultTruncated).toBe(true);
    expect(read.json.task.resultCap).toBe(200);
    expect(typeof read.json.task.result).toBe('string');
    expect(Buffer.byteLength(read.json.task.result as string)).toBeLessThanOrEqual(200);
  }, 60_000);

  it('deletes a succeeded task after keep_succeeded and keeps a failed one', async () => {
    const ok = await call('POST', '/v1/tasks', OPERATE_TOKEN, {
      type: 'echo',
      fields: {},
      reply: 30,
    });
    const failed = await call('POST', '/v1/tasks', OPERATE_TOKEN, {
      type: 'throw',
      fields: {},
      reply: 30,
    });
    expect(ok.json.task.state).toBe('succeeded');
    expect(failed.json.task.state).toBe('failed');
    await expect
      .poll(async () => (await call('GET', `/v1/tasks/${ok.json.task.id}`, READ_TOKEN)).status, {
        timeout: 30_000,
        interval: 250,
      })
      .toBe(404);
    const kept = await call('GET', `/v1/tasks/${failed.json.task.id}`, READ_TOKEN);
    expect(kept.status).toBe(200);
    expect(kept.json.task.state).toBe('failed');
  }, 60_000);
});
