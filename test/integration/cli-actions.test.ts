import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/api/store/types.js';
import { ExitStatus } from '../../src/common/exit.js';
import { type ApiStack, eventually, startApiStack } from '../support/api-program.js';
import { OPERATE_TOKEN, READ_TOKEN, RETRY_TOKEN } from '../support/api-server.js';
import { useVhost } from '../support/broker.js';
import { RUN_ROOT, runToEnd } from '../support/programs.js';

/**
 * `taskqueue retry ID` and `taskqueue cancel ID` run for real against the real `taskqueue-api`,
 * beside a real dispatcher and pool (tracking on), so a retried task runs again and a cancelled
 * one ends `cancelled`.
 */
const CLI = join(RUN_ROOT, 'dist/cli/main.js');

describe('taskqueue retry / cancel through the API', () => {
  let stack: ApiStack;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tq-cli-actions-'));
    chmodSync(dir, 0o777);
    const url = await useVhost('cli-actions');
    stack = await startApiStack(url, ['throw', 'cancellable'], {
      sections: '[throw]\nmax_attempts = 1\n\n[cancellable]\nworkers = 1\n',
    });
    await stack.pool.waitForRunning('cancellable');
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const taskqueue = (args: string[], token: string) =>
    runToEnd([process.execPath, CLI, ...args, '--api', stack.base], {
      env: { TASKQUEUE_API_URL: '', TASKQUEUE_API_TOKEN: token },
    });
  const stored = async (id: string) =>
    (await stack.call('GET', `/v1/tasks/${id}`, READ_TOKEN)).json.task as TaskRecord;

  it('retry: a failed task runs again as run 2; a read token is refused with the API code', async () => {
    const submitted = await stack.call('POST', '/v1/tasks', OPERATE_TOKEN, {
      type: 'throw',
      fields: { n: 1 },
      reply: 30,
    });
    expect(submitted.status).toBe(201);
    const first = submitted.json.task as TaskRecord;
    expect(first.state).toBe('failed');
    const attemptsBefore = first.attempts.length;

    const refused = await taskqueue(['retry', first.id], READ_TOKEN);
    expect(refused.code).toBe(ExitStatus.FAILURE);
    expect(refused.stderr).toMatch(/TQ_ERR_API_FORBIDDEN.*\[TQ_ERR_CLI_API_REFUSED\]/);
    expect((await stored(first.id)).run ?? 1).toBe(1);

    const retried = await taskqueue(['retry', first.id], RETRY_TOKEN);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toMatch(new RegExp(`^task ${first.id} retried: run 2, \\w+\\n$`));
    const done = await eventually(async () => {
      const task = await stored(first.id);
      return task.run === 2 && task.state === 'failed' && task.finishedAt ? task : undefined;
    }, 'run 2 failed again');
    expect(done.attempts.length).toBeGreaterThan(attemptsBefore);
    expect(done.attempts.some((a) => a.run === 2 && a.endedAt !== undefined)).toBe(true);

    // Failed again, so retryable again: --json prints the API's record of run 3.
    const json = await taskqueue(['retry', first.id, '--json'], OPERATE_TOKEN);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: first.id, run: 3 });
  }, 120_000);

  it('cancel: unknown id is TQ_ERR_API_TASK_NOT_FOUND; a running task ends cancelled', async () => {
    const unknown = await taskqueue(['cancel', 'no-such-task'], OPERATE_TOKEN);
    expect(unknown.code).toBe(ExitStatus.FAILURE);
    expect(unknown.stderr).toMatch(/TQ_ERR_API_TASK_NOT_FOUND.*\[TQ_ERR_CLI_API_REFUSED\]/);

    const submitted = await stack.call('POST', '/v1/tasks', OPERATE_TOKEN, {
      type: 'cancellable',
      fields: { dir, hold_ms: 600_000 },
    });
    expect(submitted.status).toBe(201);
    const id = (submitted.json.task as TaskRecord).id;
    await eventually(
      async () => (existsSync(join(dir, `${id}.ran`)) ? true : undefined),
      'the task runs',
    );

    const forbidden = await taskqueue(['cancel', id], RETRY_TOKEN);
    expect(forbidden.code).toBe(ExitStatus.FAILURE);
    expect(forbidden.stderr).toMatch(/TQ_ERR_API_FORBIDDEN/);

    const accepted = await taskqueue(['cancel', id, '--json'], OPERATE_TOKEN);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(JSON.parse(accepted.stdout)).toMatchObject({ id });
    expect(['queued', 'running']).toContain(JSON.parse(accepted.stdout).state);

    const final = await eventually(async () => {
      const task = await stored(id);
      return task.state === 'cancelled' ? task : undefined;
    }, 'the task ends cancelled');
    expect(final.state).toBe('cancelled');
    expect(readFileSync(join(dir, `${id}.aborted`), 'utf8')).toBe('TQ_ERR_TASK_CANCELLED');

    // Final now: a second cancel is the API's 409, and a cancelled task is not retryable.
    const again = await taskqueue(['cancel', id], OPERATE_TOKEN);
    expect(again.code).toBe(ExitStatus.FAILURE);
    expect(again.stderr).toMatch(/TQ_ERR_API_TASK_FINAL/);
    const notRetryable = await taskqueue(['retry', id], OPERATE_TOKEN);
    expect(notRetryable.code).toBe(ExitStatus.FAILURE);
    expect(notRetryable.stderr).toMatch(/TQ_ERR_API_NOT_RETRYABLE.*\[TQ_ERR_CLI_API_REFUSED\]/);
  }, 120_000);
});
