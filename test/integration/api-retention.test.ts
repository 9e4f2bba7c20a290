import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/api/store/types.js';
import { type ApiStack, startApiStack } from '../support/api-program.js';
import { OPERATE_TOKEN, READ_TOKEN } from '../support/api-server.js';
import { useVhost } from '../support/broker.js';

/**
 * What `[api]` says of keeping tasks, in the daemon as installed: a result past `result_cap` is
 * cut and the record says so; a succeeded task goes after `keep_succeeded`, a failed one stays
 * for `keep_failed`.
 */
describe('taskqueue-api retention and caps', () => {
  let stack: ApiStack;

  beforeAll(async () => {
    const url = await useVhost('api-retention');
    stack = await startApiStack(url, ['echo', 'throw'], {
      apiLines: [
        // About 4 s: long enough to read the record after its reply, short for the test.
        'keep_succeeded = 0.00005',
        'keep_failed = 1',
        'sweep_interval = 1',
        'result_cap = 200',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  async function call(method: string, path: string, token: string, body?: unknown) {
    const { status, json } = await stack.call(method, path, token, body);
    return { status, json: json as { task: TaskRecord } };
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
