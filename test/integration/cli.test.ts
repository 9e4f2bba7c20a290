import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import {
  FIXTURE_PLUGINS,
  type Program,
  ROOT,
  runToEnd,
  startDispatcher,
  startPool,
  testConfig,
  WORKSPACE_PLUGINS,
  writeConfig,
} from '../support/programs.js';

const CLI = join(ROOT, 'dist/cli/main.js');
const FIXTURES = join(ROOT, 'test/fixtures/config');

/**
 * Runs the real `taskqueue` program with `input` on its stdin (closed at once, so a command that
 * reads stdin never waits); resolves with its exit status and output.
 */
async function taskqueue(args: string[], env: NodeJS.ProcessEnv = {}, input = '') {
  return runProgram(CLI, args, env, input);
}

function runProgram(script: string, args: string[], env: NodeJS.ProcessEnv, input = '') {
  return runToEnd([process.execPath, script, ...args], { env, input });
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
    for (const command of ['submit', 'results', 'check-config', 'plugins', 'run-task']) {
      const result = await taskqueue([command, '--help']);
      expect(result.code, command).toBe(0);
      expect(result.stdout, command).toContain(`taskqueue ${command}`);
    }
  });
  it('submit - reads the fields from stdin', async () => {
    const result = await taskqueue(
      ['submit', 'echo', '-', '--wait', '-c', config.file],
      {},
      '{"from":"stdin"}',
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).fields).toEqual({
      from: 'stdin',
      params: { worker_type: 'echo' },
    });
  });

  it('submit - with an empty or non-JSON stdin is a usage error (exit 64), nothing published', async () => {
    for (const input of ['', '  \n', 'not json', '[1,2]']) {
      const result = await taskqueue(['submit', 'echo', '-', '-c', config.file], {}, input);
      expect(result.code, JSON.stringify(input)).toBe(64);
      expect(result.stderr, JSON.stringify(input)).toContain('TQ_ERR_CLI_USAGE');
      expect(result.stdout, JSON.stringify(input)).toBe('');
    }
  });

  it('submit refuses a type name the dispatcher could not route (exit 64), before publishing', async () => {
    for (const type of ['no such', '-dash', 'a/b']) {
      const result = await taskqueue(['submit', '--', type, '{}', '-c', config.file]);
      expect(result.code, type).toBe(64);
      expect(result.stderr, type).toContain('TQ_ERR_CLI_USAGE');
      expect(result.stdout, type).toBe('');
    }
  });

  it('submit warns when no worker serves the type, and --wait says so when it times out', async () => {
    const served = await taskqueue(['submit', 'echo', '{}', '-c', config.file]);
    expect(served.code).toBe(0);
    expect(served.stderr).toBe('');

    const submitted = await taskqueue(['submit', 'nobody', '{}', '-c', config.file]);
    expect(submitted.code).toBe(0);
    expect(submitted.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
    expect(submitted.stderr).toContain('worker_nobody');
    // The dispatcher consumes the input queue: only the worker side is missing.
    expect(submitted.stderr).not.toContain('dispatcher');

    const waited = await taskqueue([
      'submit',
      'nobody',
      '{}',
      '--wait',
      '--timeout',
      '1',
      '-c',
      config.file,
    ]);
    expect(waited.code).toBe(75);
    const timeoutLine = waited.stderr.split('\n').find((l) => l.includes('TQ_ERR_CLI_TIMEOUT'));
    expect(timeoutLine).toContain('worker_nobody');
  });

  it('results --queue of a missing queue exits 69 and does not create it', async () => {
    const result = await taskqueue(['results', '--queue', 'no-such-results', '-c', config.file]);
    expect(result.code).toBe(69);
    expect(result.stderr).toContain('TQ_ERR_CLI_NO_QUEUE');
    const client = await TestClient.connect(url);
    try {
      await expect(client.messageCount('no-such-results')).rejects.toThrow(/404|NOT_FOUND/);
    } finally {
      await client.close();
    }
  });

  it('results prints the task id on every line; --peek leaves the results on the queue, in order', async () => {
    const queue = 'peek-results';
    const client = await TestClient.connect(url);
    try {
      await client.declare(queue);
      for (const n of [1, 2, 3]) {
        await client.publish(queue, JSON.stringify({ n }), { correlationId: `task-${n}` });
      }
      const expected = [1, 2, 3].map((n) => ({ correlation_id: `task-${n}`, result: { n } }));
      const lines = (out: string) =>
        out
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line));
      for (let look = 0; look < 2; look++) {
        const peeked = await taskqueue(['results', '--peek', '--queue', queue, '-c', config.file]);
        expect(peeked.code).toBe(0);
        expect(lines(peeked.stdout)).toEqual(expected);
        expect(await client.messageCount(queue)).toBe(3);
      }
      const taken = await taskqueue(['results', '--queue', queue, '-c', config.file]);
      expect(taken.code).toBe(0);
      expect(lines(taken.stdout)).toEqual(expected);
      expect(await client.messageCount(queue)).toBe(0);
    } finally {
      await client.close();
    }
  });
});

describe('usage errors exit 64 (TQ_ERR_CLI_USAGE)', () => {
  const cases: Array<[string, string[]]> = [
    ['no command', []],
    ['an unknown command', ['frobnicate']],
    ['an unknown option', ['results', '--frobnicate']],
    ['submit without TYPE', ['submit']],
    ['results --peek with --follow', ['results', '--peek', '--follow']],
  ];
  for (const [what, args] of cases) {
    it(`taskqueue with ${what}`, async () => {
      const result = await taskqueue(args);
      expect(result.code).toBe(64);
      expect(result.stderr).toContain('TQ_ERR_CLI_USAGE');
    });
  }

  for (const program of ['dispatcher', 'workerpool']) {
    it(`taskqueue-${program} with an unknown option; -f is accepted`, async () => {
      const script = join(ROOT, `dist/${program}/main.js`);
      const unknown = await runProgram(script, ['--frobnicate'], {});
      expect(unknown.code).toBe(64);
      expect(unknown.stderr).toContain('TQ_ERR_CLI_USAGE');
      // -f (the original's "foreground") is accepted and changes nothing: a bad config still 78.
      const bad = join(FIXTURES, 'bad-port.ini');
      expect((await runProgram(script, ['-f', '-c', bad], {})).code).toBe(78);
      expect((await runProgram(script, ['-c', bad], {})).code).toBe(78);
    });
  }
});

describe('--help of every program and command', () => {
  const helps: Array<[string, string[]]> = [
    ['taskqueue', [CLI]],
    ...['submit', 'results', 'check-config', 'plugins', 'run-task'].map(
      (command): [string, string[]] => [`taskqueue ${command}`, [CLI, command]],
    ),
    ['taskqueue-dispatcher', [join(ROOT, 'dist/dispatcher/main.js')]],
    ['taskqueue-workerpool', [join(ROOT, 'dist/workerpool/main.js')]],
  ];
  for (const [name, [script, ...args]] of helps) {
    it(`${name} --help shows an example, the exit statuses and the environment`, async () => {
      const result = await runProgram(script!, [...args, '--help'], {});
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(name);
      expect(result.stdout).toMatch(/Examples:\n {2}\S/);
      expect(result.stdout).toMatch(/Exit status:[\s\S]* 64 [\s\S]* 69 [\s\S]* 78 /);
      expect(result.stdout).toMatch(
        /Environment:[\s\S]*TASKQUEUE_AMQP_URL[\s\S]*TASKQUEUE_LOG_PRETTY/,
      );
      if (name.startsWith('taskqueue-'))
        expect(result.stdout).toMatch(/-f, --foreground .*ignored/);
    });
  }
});

describe('a command without a config file', () => {
  const notice =
    'taskqueue: no /etc/taskqueue/config.ini; using amqp://guest@localhost:5672/ — set -c or TASKQUEUE_AMQP_URL';

  it('says which broker it uses; check-config agrees and exits 78 only for a named missing file', async () => {
    // The default file must be absent on the test machine for this to mean anything.
    expect(existsSync('/etc/taskqueue/config.ini')).toBe(false);
    const plugins = await taskqueue(['plugins']);
    expect(plugins.stderr.split('\n')).toContain(notice);

    const checked = await taskqueue(['check-config']);
    expect(checked.code).toBe(0);
    expect(checked.stderr.split('\n')).toContain(notice);
    expect(checked.stdout).toMatch(/^built-in defaults: ok/);

    const named = await taskqueue(['check-config', '-c', '/nonexistent/config.ini']);
    expect(named.code).toBe(78);
    expect(named.stderr).toContain('TQ_ERR_CONFIG_READ');

    // TASKQUEUE_AMQP_URL names the broker: nothing to say.
    const fromEnv = await taskqueue(['check-config'], {
      TASKQUEUE_AMQP_URL: 'amqp://broker.example/',
    });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stderr).toBe('');
  });
});

describe('taskqueue plugins exit status', () => {
  const plugins = (sections: string) => {
    const config = writeConfig(
      `[workerpool]\nplugin_paths = ${FIXTURE_PLUGINS}, ${WORKSPACE_PLUGINS}\n${sections}`,
    );
    return taskqueue(['plugins', '-c', config.file]).finally(config.cleanup);
  };

  it('0 when every configured type has a plugin', async () => {
    const result = await plugins('enabled = echo, throw\n[echo]\nworkers = 2\n');
    expect(result.code).toBe(0);
  });

  it('1 when a config section names a type no plugin provides', async () => {
    const result = await plugins('[nosuch]\nworkers = 1\n');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^missing: .*nosuch/m);
  });

  it('1 when [workerpool] enabled names a type no plugin provides', async () => {
    const result = await plugins('enabled = echo, nosuch\n');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^missing: .*nosuch/m);
  });

  it('1 when a configured type has only a refused plugin', async () => {
    const result = await plugins('enabled = future-api\n');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^ {2}refused: /m);
  });
});
