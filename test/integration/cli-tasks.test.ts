import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitStatus } from '../../src/common/exit.js';
import { type RunningApi, startTestApi } from '../support/api-program.js';
import { OPERATE_TOKEN, READ_TOKEN } from '../support/api-server.js';
import { useVhost } from '../support/broker.js';
import { RUN_ROOT, runToEnd, writeConfig } from '../support/programs.js';

/**
 * `taskqueue task ID` and `taskqueue tasks …` run for real against the real `taskqueue-api`
 * (SQLite store, real broker; no dispatcher, so submitted tasks stay `queued`).
 */
const CLI = join(RUN_ROOT, 'dist/cli/main.js');

describe('taskqueue task / tasks through the API', () => {
  let api: RunningApi;
  let url: string;
  const ids: string[] = [];
  const cleanups: Array<() => void> = [];

  beforeAll(async () => {
    url = await useVhost('cli-tasks');
    api = await startTestApi(`[amqp]\nurl = ${url}\nconnect_retries = 60\n`);
    for (const [type, n] of [
      ['echo', 1],
      ['shell', 2],
      ['echo', 3],
    ] as const) {
      const response = await api.post('/v1/tasks', {
        type,
        fields: { n, order: { id: `o-${n}` } },
      });
      expect(response.status).toBe(201);
      ids.push(((await response.json()) as { task: { id: string } }).task.id);
    }
  });
  afterAll(async () => {
    await api?.stop();
    for (const cleanup of cleanups) cleanup();
  });

  /** A config for the CLI with `api` as its [api] section (none when undefined). */
  function cliConfig(api?: string): string {
    const { file, cleanup } = writeConfig(
      `[amqp]\nurl = ${url}\n${api === undefined ? '' : `\n[api]\n${api}\n`}`,
    );
    cleanups.push(cleanup);
    return file;
  }
  const taskqueue = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runToEnd([process.execPath, CLI, ...args], {
      env: { TASKQUEUE_API_URL: '', TASKQUEUE_API_TOKEN: '', ...env },
    });

  it('task ID: human output by default, the record with --json', async () => {
    const file = cliConfig(`url = ${api.base}`);
    const human = await taskqueue(['task', ids[0]!, '-c', file, '--token', READ_TOKEN]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^task ${ids[0]}\\n`));
    expect(human.stdout).toMatch(/state\s+queued/);
    expect(human.stdout).toMatch(/type\s+echo/);
    const json = await taskqueue(['task', ids[0]!, '-c', file, '--json'], {
      TASKQUEUE_API_TOKEN: READ_TOKEN,
    });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      id: ids[0],
      state: 'queued',
      type: 'echo',
      source: 'api',
      workitem: { fields: { n: 1 } },
    });
  });

  it('tasks: filters by type, state and field, pages with --limit and --cursor', async () => {
    const file = cliConfig(`url = ${api.base}`);
    const tokenFile = join(api.configFile, '..', 'cli.token');
    writeFileSync(tokenFile, `${READ_TOKEN}\n`);
    const auth = ['-c', file, '--token-file', tokenFile];
    const echo = await taskqueue([
      'tasks',
      '--type',
      'echo',
      '--state',
      'queued',
      ...auth,
      '--json',
    ]);
    expect(echo.code, echo.stderr).toBe(0);
    expect(
      (JSON.parse(echo.stdout) as { tasks: Array<{ id: string }> }).tasks.map((t) => t.id),
    ).toEqual([ids[2], ids[0]]);
    const byField = await taskqueue(['tasks', '--field', 'order.id=o-2', ...auth, '--json']);
    expect(
      (JSON.parse(byField.stdout) as { tasks: Array<{ id: string }> }).tasks.map((t) => t.id),
    ).toEqual([ids[1]]);
    const none = await taskqueue(['tasks', '--state', 'failed', ...auth]);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('no tasks\n');

    const first = await taskqueue(['tasks', '--limit', '2', ...auth]);
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATE\s+TYPE\s+CREATED\s+FINISHED$/);
    expect(lines.slice(1, 3).map((line) => line.split(/\s+/)[0])).toEqual([ids[2], ids[1]]);
    const cursor = /^more: --cursor (\S+)$/.exec(lines[3]!)?.[1];
    expect(cursor).toBeDefined();
    const second = await taskqueue([
      'tasks',
      '--limit',
      '2',
      '--cursor',
      cursor!,
      ...auth,
      '--json',
    ]);
    const page = JSON.parse(second.stdout) as { tasks: Array<{ id: string }>; next?: string };
    expect(page.tasks.map((t) => t.id)).toEqual([ids[0]]);
    expect(page.next).toBeUndefined();
  });

  it('the address from [api] listen when the config has an [api] section', async () => {
    const port = new URL(api.base).port;
    const file = cliConfig(`listen = 0.0.0.0:${port}`);
    const result = await taskqueue(['task', ids[1]!, '-c', file, '--json'], {
      TASKQUEUE_API_TOKEN: OPERATE_TOKEN,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).id).toBe(ids[1]);
  });

  it('errors: no API configured 78, API refusals 1 with their code, no answer 69', async () => {
    const noApi = await taskqueue(['tasks', '-c', cliConfig()]);
    expect(noApi.code).toBe(ExitStatus.CONFIG);
    expect(noApi.stderr).toMatch(/\[TQ_ERR_CLI_NO_API\]/);

    const file = cliConfig(`url = ${api.base}`);
    const unknown = await taskqueue(['task', 'no-such-id', '-c', file, '--token', READ_TOKEN]);
    expect(unknown.code).toBe(ExitStatus.FAILURE);
    expect(unknown.stderr).toMatch(/TQ_ERR_API_TASK_NOT_FOUND.*\[TQ_ERR_CLI_API_REFUSED\]/);

    const noToken = await taskqueue(['task', ids[0]!, '-c', file]);
    expect(noToken.code).toBe(ExitStatus.FAILURE);
    expect(noToken.stderr).toMatch(/TQ_ERR_API_UNAUTHENTICATED/);

    const badState = await taskqueue([
      'tasks',
      '--state',
      'weird',
      '-c',
      file,
      '--token',
      READ_TOKEN,
    ]);
    expect(badState.code).toBe(ExitStatus.FAILURE);
    expect(badState.stderr).toMatch(/TQ_ERR_API_INVALID_REQUEST/);

    const badField = await taskqueue(['tasks', '--field', 'nothing', '-c', file]);
    expect(badField.code).toBe(ExitStatus.USAGE);
    expect(badField.stderr).toMatch(/TQ_ERR_CLI_USAGE/);

    // A port nobody listens on (the API's port after it is gone is not ours to reuse).
    const gone = await taskqueue(['tasks', '-c', file, '--api', 'http://127.0.0.1:9'], {
      TASKQUEUE_API_TOKEN: READ_TOKEN,
    });
    expect(gone.code).toBe(ExitStatus.UNAVAILABLE);
    expect(gone.stderr).toMatch(/\[TQ_ERR_CLI_API_UNREACHABLE\]/);
  });
});
