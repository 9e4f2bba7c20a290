import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useVhost } from '../support/broker.js';
import {
  type Program,
  ROOT,
  startDispatcher,
  startPool,
  testConfig,
  writeConfig,
} from '../support/programs.js';

const run = promisify(execFile);
const CLI = join(ROOT, 'dist/cli/main.js');
const FIXTURES = join(ROOT, 'test/fixtures/config');

/** Runs the real `taskqueue` program; resolves with its exit status and output. */
async function taskqueue(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { ...process.env, TASKQUEUE_AMQP_URL: '', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('taskqueue check-config', () => {
  it('accepts the SPEC example for another host (exit 0), warning about its users', async () => {
    const file = join(FIXTURES, 'spec-example.ini');
    const result = await taskqueue(['check-config', '--for-other-host', '-c', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ok/);
    // bifh1 and bifh2 are users of the original's build hosts, not of this one.
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(`^warning: ${file}:\\d+: \\[worker2_bifh1\\] user = bifh1: `),
      ),
      expect.stringMatching(
        new RegExp(`^warning: ${file}:\\d+: \\[worker2_bifh2\\] user = bifh2: `),
      ),
    ]);
  });

  it('refuses the SPEC example on this host, naming both users it lacks (exit 78)', async () => {
    const file = join(FIXTURES, 'spec-example.ini');
    const result = await taskqueue(['check-config', '-c', file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('TQ_ERR_CONFIG_VALUE');
    expect(result.stderr).toMatch(/\[worker2_bifh1\] user = bifh1: expected a user that exists/);
    expect(result.stderr).toMatch(/\[worker2_bifh2\] user = bifh2: expected a user that exists/);
  });

  it('rejects a malformed config with file, line and key (exit 78)', async () => {
    const file = join(FIXTURES, 'bad-port.ini');
    const result = await taskqueue(['check-config', '-c', file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(`${file}:`);
    expect(result.stderr).toMatch(/\[amqp\] port/);
    expect(result.stderr).toContain('TQ_ERR_CONFIG_VALUE');
  });
});

describe('daemons refuse a bad config before connecting', () => {
  for (const program of ['dispatcher', 'workerpool']) {
    it(`taskqueue-${program} exits 78`, async () => {
      // The URL points nowhere: a daemon that tried to connect would not exit 78 promptly.
      const config = writeConfig('[amqp]\nurl = amqp://127.0.0.1:1/\nheartbeat = soon\n');
      try {
        const started = Date.now();
        const { code } = await (program === 'dispatcher'
          ? startDispatcher(config.file)
          : startPool(config.file)
        ).exited();
        expect(code).toBe(78);
        expect(Date.now() - started).toBeLessThan(15_000);
      } finally {
        config.cleanup();
      }
    });
  }

  it('exits 69 when the broker stays unreachable past connect_retries', async () => {
    const config = writeConfig('[amqp]\nurl = amqp://127.0.0.1:1/\nconnect_retries = 1\n');
    try {
      const dispatcher = startDispatcher(config.file);
      const { code } = await dispatcher.exited();
      expect(code).toBe(69);
      expect(dispatcher.lines.some((line) => line.includes('TQ_ERR_AMQP_UNREACHABLE'))).toBe(true);
    } finally {
      config.cleanup();
    }
  });
});

describe('taskqueue submit and results', () => {
  let url: string;
  let dispatcher: Program;
  let pool: Program;
  let config: ReturnType<typeof writeConfig>;

  beforeAll(async () => {
    url = await useVhost('cli');
    config = writeConfig(testConfig(url, ['echo', 'throw']));
    dispatcher = startDispatcher(config.file);
    pool = startPool(config.file);
    await dispatcher.waitFor(/dispatcher consuming/);
    await pool.waitForRunning('echo');
    await pool.waitForRunning('throw');
  });

  afterAll(async () => {
    await Promise.all([dispatcher?.stop(), pool?.stop()]);
    config?.cleanup();
  });

  it('submit --wait prints the result', async () => {
    const result = await taskqueue(['submit', 'echo', '{"a":1}', '--wait', '-c', config.file]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      fields: { a: 1, params: { worker_type: 'echo' } },
    });
  });

  it('submit --wait takes the broker from TASKQUEUE_AMQP_URL too', async () => {
    const result = await taskqueue(
      ['submit', 'echo', '{"b":2}', '--wait', '-c', '/nonexistent/config.ini'],
      {
        TASKQUEUE_AMQP_URL: url,
      },
    );
    // An explicit -c that does not exist is an error, even with the URL in the environment.
    expect(result.code).toBe(78);
    const implicit = await taskqueue(['submit', 'echo', '{"b":2}', '--wait'], {
      TASKQUEUE_AMQP_URL: url,
    });
    expect(implicit.code).toBe(0);
    expect(JSON.parse(implicit.stdout).fields.b).toBe(2);
  });

  it('submit --wait exits 1 on an error result and prints it', async () => {
    const result = await taskqueue(['submit', 'throw', '{"n":5}', '--wait', '-c', config.file]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).error).toBe('boom on 5');
  });

  it('submit without --wait prints the task id; results prints and takes the result', async () => {
    const submitted = await taskqueue(['submit', 'echo', '{"c":3}', '-c', config.file]);
    expect(submitted.code).toBe(0);
    const id = submitted.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    let printed = '';
    for (let i = 0; i < 50 && !printed.includes(id); i++) {
      const results = await taskqueue(['results', '--properties', '-c', config.file]);
      expect(results.code).toBe(0);
      printed += results.stdout;
      await new Promise((r) => setTimeout(r, 200));
    }
    const line = printed.split('\n').find((l) => l.includes(id))!;
    expect(JSON.parse(line)).toMatchObject({ correlation_id: id, result: { fields: { c: 3 } } });
  });

  it('--help works on each command', async () => {
    for (const command of ['submit', 'results', 'check-config', 'plugins']) {
      const result = await taskqueue([command, '--help']);
      expect(result.code, command).toBe(0);
      expect(result.stdout, command).toContain(`taskqueue ${command}`);
    }
  });
});
