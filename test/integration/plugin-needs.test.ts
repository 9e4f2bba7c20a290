import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useVhost } from '../support/broker.js';
import {
  type Program,
  ROOT,
  runToEnd,
  startPool,
  testConfig,
  trustedTempDir,
  WORKSPACE_PLUGINS,
  writeConfig,
} from '../support/programs.js';

const CLI = join(ROOT, 'dist/cli/main.js');
const SHELL_PACKAGE = join(WORKSPACE_PLUGINS, 'taskqueue-plugin-shell');

/** Runs the real `taskqueue` program; resolves with its exit status and output. */
function taskqueue(args: string[]) {
  return runToEnd([process.execPath, CLI, ...args], { env: { TASKQUEUE_LOG_PRETTY: '0' } });
}

/** A config that installs the workspace plugins (echo and shell) and names nothing else. */
const workspaceConfig = (sections: string, pluginPaths = WORKSPACE_PLUGINS) => `[workerpool]
plugin_paths = ${pluginPaths}
enabled = echo, shell

${sections}`;

describe('taskqueue check-config: every problem of the file and of this host at once', () => {
  const dir = trustedTempDir('check-all-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('names the setting the shell plugin requires and the group lacks (exit 78)', async () => {
    const file = write(
      'no-command.ini',
      workspaceConfig('[echo]\nworkers = 1\n\n[shell]\nworkers = 2\n'),
    );
    const result = await taskqueue(['check-config', '-c', file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('TQ_ERR_CONFIG_VALUE');
    expect(result.stderr).toContain(
      `${file}:8: [shell] command: expected a value: taskqueue-plugin-shell requires it`,
    );
  });

  it('only warns about an installed plugin the file does not configure (exit 0)', async () => {
    const file = write('unconfigured.ini', workspaceConfig('[echo]\nworkers = 1\n'));
    const result = await taskqueue(['check-config', '-c', file]);
    expect(result.code).toBe(0);
    expect(result.stderr.trim().split('\n')).toEqual([
      'warning: group shell lacks the setting command (the command line to run for each task) that taskqueue-plugin-shell requires: add a section [shell] with command = …, or leave shell out of [workerpool] enabled',
    ]);
  });

  it('taskqueue plugins says the group is refused and why, not how many children it has', async () => {
    const file = write('no-command-plugins.ini', workspaceConfig('[shell]\nworkers = 2\n'));
    const result = await taskqueue(['plugins', '-c', file]);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n').filter((l) => l.startsWith('  group shell'));
    expect(lines).toEqual([
      '  group shell: REFUSED: group shell lacks the setting command (the command line to run for each task) that taskqueue-plugin-shell requires: add command = … to [shell]',
    ]);
  });

  it('reports a user this host lacks and the value problems past a duplicate section (exit 78)', async () => {
    const file = write(
      'several.ini',
      workspaceConfig(
        [
          '[echo]', // 5
          'user = tq-no-such-user-x', // 6
          '', // 7
          '[shell]', // 8
          'command = cat', // 9
          '', // 10
          '[shell]', // 11
          'workers = 2', // 12
          '', // 13
          '[amqp]', // 14
          'port = 0', // 15
        ].join('\n'),
      ),
    );
    const result = await taskqueue(['check-config', '-c', file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('TQ_ERR_CONFIG_SYNTAX');
    const reported = [...result.stderr.matchAll(new RegExp(`${file}:(\\d+): `, 'g'))].map((m) =>
      Number(m[1]),
    );
    expect(reported).toEqual([6, 11, 15]);
    expect(result.stderr).toContain('[echo] user = tq-no-such-user-x: expected a user that exists');
  });

  it('with --for-other-host, users and plugin settings this host lacks are warnings (exit 0)', async () => {
    const file = write(
      'other-host.ini',
      workspaceConfig('[echo]\nuser = tq-no-such-user-x\n\n[shell]\nworkers = 1\n'),
    );
    const result = await taskqueue(['check-config', '--for-other-host', '-c', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${file}: ok`);
    const warnings = result.stderr.trim().split('\n');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      new RegExp(`^warning: ${file}:6: \\[echo\\] user = tq-no-such-user-x: `),
    );
    expect(warnings[1]).toMatch(/^warning: group shell lacks the setting command /);
  });

  it('warns that a plugin_paths entry is itself a plugin package, and names the folder', async () => {
    const file = write('misplaced.ini', workspaceConfig('', SHELL_PACKAGE));
    const result = await taskqueue(['check-config', '-c', file]);
    expect(result.code).toBe(0);
    expect(result.stderr.trim().split('\n')).toEqual([
      `warning: plugin_paths entry ${SHELL_PACKAGE} is itself a plugin package; name the folder that holds packages: ${WORKSPACE_PLUGINS}`,
    ]);
  });
});

describe('the pool and a group that lacks a setting its plugin requires', () => {
  let url: string;
  let config: ReturnType<typeof writeConfig>;
  let pool: Program | undefined;

  beforeAll(async () => {
    url = await useVhost('plugin-needs');
    // The pool also names a plugin_paths entry that is a package instead of its folder.
    config = writeConfig(
      testConfig(url, ['echo', 'shell'], '[shell]\nworkers = 2\n\n[echo]\nworkers = 1\n').replace(
        `plugin_paths = `,
        `plugin_paths = ${SHELL_PACKAGE}, `,
      ),
    );
  });

  afterAll(async () => {
    await pool?.stop();
    config?.cleanup();
  });

  it('refuses the group once at start and once per reload, naming the setting; the rest runs', async () => {
    pool = startPool(config.file);
    await pool.waitForRunning('echo');
    const refusals = () =>
      pool!.logs().filter((l) => l.group === 'shell' && String(l.msg).startsWith('group refused'));
    expect(refusals()).toHaveLength(1);
    expect(refusals()[0]).toMatchObject({ level: 50, type: 'shell', missing: ['command'] });
    expect(String(refusals()[0]!.msg)).toContain('lacks the setting command');
    expect(pool.logs().some((l) => l.group === 'shell' && l.msg === 'child state')).toBe(false);
    expect(
      pool
        .logs()
        .filter((l) => l.level === 40 && String(l.msg).startsWith('plugin_paths entry'))
        .map((l) => l.msg),
    ).toEqual([
      `plugin_paths entry ${SHELL_PACKAGE} is itself a plugin package; name the folder that holds packages: ${WORKSPACE_PLUGINS}`,
    ]);

    pool.process.kill('SIGHUP');
    await pool.waitFor(/"msg":"reloaded"/);
    expect(refusals()).toHaveLength(2);
    expect(pool.logs().some((l) => l.group === 'shell' && l.msg === 'child state')).toBe(false);
  });
});
