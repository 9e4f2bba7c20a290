import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Workitem } from '@taskqueue/plugin-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FIXTURE_PLUGINS,
  RUN_ROOT,
  runToEnd,
  trustedTempDir,
  WORKSPACE_PLUGINS,
  writeConfig,
} from '../support/programs.js';
import { ensureUser, isRoot, removeCreated } from '../support/users.js';

// No broker anywhere in this file: run-task and plugins load plugins in children of their own.
const CLI = join(RUN_ROOT, 'dist/cli/main.js');

/** Runs `taskqueue ARGS -c <a config of SECTIONS over the fixture plugins and PATHS>`. */
async function taskqueue(
  args: string[],
  sections: string,
  options: { input?: string; paths?: string[] } = {},
) {
  const paths = [...(options.paths ?? []), FIXTURE_PLUGINS, WORKSPACE_PLUGINS];
  const config = writeConfig(`[workerpool]\nplugin_paths = ${paths.join(', ')}\n${sections}`);
  try {
    return await runToEnd([process.execPath, CLI, ...args, '-c', config.file], {
      input: options.input,
      env: { TASKQUEUE_LOG_PRETTY: '0' },
    });
  } finally {
    config.cleanup();
  }
}

/** The JSON workitems on stdout, one a line; fails the test on a line that is not one. */
function published(stdout: string): Workitem[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Workitem);
}

/** Writes a plugin package `taskqueue-plugin-<type>` whose module is `source`. */
function writePlugin(dir: string, type: string, source: string): void {
  const pkg = join(dir, `taskqueue-plugin-${type}`);
  mkdirSync(pkg);
  writeFileSync(join(pkg, 'index.js'), source);
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: `taskqueue-plugin-${type}`,
      version: '1.0.0',
      type: 'module',
      main: 'index.js',
      taskqueue: { api: '^1.0.0' },
    }),
  );
}

/** Plugins made for this file; in a directory the CLI trusts (not under /tmp), 0755 for nobody. */
let generated: string;

beforeAll(() => {
  generated = trustedTempDir('run-task-');
  writePlugin(
    generated,
    'chatty',
    `console.log('chatty: imported');
export default class ChattyWorker {
  async setup() { console.log('chatty: setup'); }
  async handleTask(workitem) {
    console.log('{"fields":{"not":"a result"}}');
    process.stdout.write('chatty: no newline');
    workitem.fields.chatty = true;
    return workitem;
  }
  async teardown() { console.log('chatty: teardown'); }
}
`,
  );
  writePlugin(
    generated,
    'throwonimport',
    `throw new Error('this module cannot be imported');
`,
  );
  writePlugin(
    generated,
    'hangonimport',
    `// Its import never finishes; the interval keeps the event loop busy, as a stuck connect would.
setInterval(() => {}, 1000);
await new Promise(() => {});
export default class Never { async handleTask(w) { return w; } }
`,
  );
});

afterAll(() => {
  rmSync(generated, { recursive: true, force: true });
  removeCreated();
});

describe('taskqueue run-task', () => {
  it("prints echo's result: the fields wrapped as submit wraps them (exit 0)", async () => {
    const result = await taskqueue(['run-task', 'echo', '{"n":1}'], '[echo]\nworkers = 1\n');
    expect(result.code).toBe(0);
    expect(published(result.stdout)).toEqual([
      { fields: { n: 1, params: { worker_type: 'echo' } } },
    ]);
  });

  it('takes a whole workitem from stdin with -, as it is', async () => {
    const workitem = { fields: { n: 2 }, wfid: 'w-1' };
    const result = await taskqueue(['run-task', 'echo', '-'], '', {
      input: JSON.stringify(workitem),
    });
    expect(result.code).toBe(0);
    expect(published(result.stdout)).toEqual([workitem]);
  });

  it('prints the error result of a plugin that throws (exit 1)', async () => {
    const result = await taskqueue(['run-task', 'throw', '{"n":7}'], '');
    expect(result.code).toBe(1);
    const [error, ...more] = published(result.stdout);
    expect(more).toEqual([]);
    expect(error).toMatchObject({
      fields: { n: 7, params: { worker_type: 'throw' } },
      error: 'boom on 7',
      trace: expect.stringContaining('boom on 7'),
    });
  });

  it("attempts a retryable failure again at once, up to the group's max_attempts", async () => {
    const result = await taskqueue(['run-task', 'flaky'], '[flaky]\nmax_attempts = 3\n');
    expect(result.code).toBe(0);
    expect(published(result.stdout)).toEqual([
      { fields: { params: { worker_type: 'flaky' }, succeeded_on: 3 } },
    ]);
    expect(result.stderr).toMatch(/attempt 2 of 3 failed; attempting again at once/);

    const fewer = await taskqueue(['run-task', 'flaky'], '[flaky]\nmax_attempts = 2\n');
    expect(fewer.code).toBe(1);
    expect(published(fewer.stdout)[0]).toMatchObject({ error: 'flaky: attempt 2 fails' });
  });

  it("ends a task at the group's timeout with the error result", async () => {
    const result = await taskqueue(
      ['run-task', 'hang', '{"mode":"abortable"}'],
      '[hang]\ntimeout = 1\n',
    );
    expect(result.code).toBe(1);
    expect(published(result.stdout)).toEqual([
      expect.objectContaining({ error: 'task timed out after 1 s' }),
    ]);
  });

  it('makes the error result itself when the child dies or stops answering in a task', async () => {
    const died = await taskqueue(['run-task', 'exit-on-task', '{"die":true}'], '');
    expect(died.code).toBe(1);
    expect(published(died.stdout)).toEqual([
      expect.objectContaining({
        fields: expect.objectContaining({ die: true }),
        error: expect.stringContaining('exit code 7'),
      }),
    ]);
    // A plugin spinning in a loop cannot even see its timeout: the command kills its child.
    const spun = await taskqueue(['run-task', 'hang', '{"mode":"spin"}'], '[hang]\ntimeout = 1\n');
    expect(spun.code).toBe(1);
    expect(published(spun.stdout)).toEqual([
      expect.objectContaining({ error: expect.stringMatching(/timed out after 1 s .*killed/) }),
    ]);
  });

  it("sends the result through the plugin's reportResults", async () => {
    const result = await taskqueue(['run-task', 'report'], '');
    expect(result.code).toBe(0);
    expect(published(result.stdout)).toEqual([
      { fields: { params: { worker_type: 'report' }, reported_by: 'report' } },
    ]);
  });

  it('keeps what the plugin prints off stdout: only the result is there', async () => {
    const result = await taskqueue(['run-task', 'chatty'], '', { paths: [generated] });
    expect(result.code).toBe(0);
    expect(published(result.stdout)).toEqual([
      { fields: { params: { worker_type: 'chatty' }, chatty: true } },
    ]);
    for (const said of [
      'chatty: imported',
      'chatty: setup',
      '{"fields":{"not":"a result"}}',
      'chatty: teardown',
    ])
      expect(result.stderr).toContain(said);
  });

  it('exits 78 with TQ_ERR_PLUGIN_MISSING for a type no plugin provides', async () => {
    const result = await taskqueue(['run-task', 'nosuch'], '');
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('[TQ_ERR_PLUGIN_MISSING]');
  });

  it('exits 78 with the code of a plugin that fails to load or set up', async () => {
    const load = await taskqueue(['run-task', 'throwonimport'], '', { paths: [generated] });
    expect(load.code).toBe(78);
    expect(load.stderr).toContain('[TQ_ERR_PLUGIN_LOAD]');
    const setup = await taskqueue(['run-task', 'crash-on-start'], '');
    expect(setup.code).toBe(78);
    expect(setup.stderr).toContain('[TQ_ERR_PLUGIN_SETUP]');
    const api = await taskqueue(['run-task', 'future-api'], '');
    expect(api.code).toBe(78);
    expect(api.stderr).toContain('[TQ_ERR_PLUGIN_API]');
  });

  it('refuses a group the pool would refuse (a required setting missing) with 78', async () => {
    // The shell plugin requires `command`.
    const result = await taskqueue(['run-task', 'shell'], '[shell]\nworkers = 1\n');
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('[TQ_ERR_GROUP_REFUSED]');
  });

  it('runs the group named with --group, and says which groups there are otherwise', async () => {
    const sections = '[whoami]\nworkers = a, b\n\n[whoami_a]\ngreeting = from a\n\n[whoami_b]\n';
    const unnamed = await taskqueue(['run-task', 'whoami'], sections);
    expect(unnamed.code).toBe(64);
    expect(unnamed.stderr).toMatch(/whoami_a, whoami_b: name one with --group/);
    const named = await taskqueue(['run-task', 'whoami', '--group', 'whoami_b'], sections);
    expect(named.code).toBe(0);
  });
});

describe.skipIf(!isRoot())("taskqueue run-task as the group's user (root)", () => {
  it("runs the task in a child as the group's user, not as root nor the fallback", async () => {
    const user = ensureUser('tq-runtask-u1');
    const result = await taskqueue(['run-task', 'whoami'], `[whoami]\nuser = ${user.name}\n`);
    expect(result.code).toBe(0);
    const [item] = published(result.stdout);
    expect(item!.fields.identity).toMatchObject({
      uid: user.uid,
      euid: user.uid,
      gid: user.gid,
      user: user.name,
    });
  });
});

if (!isRoot()) {
  console.warn("SKIPPED: run-task as the group's user needs root (useradd, setpriv)");
}

describe('taskqueue plugins loads each plugin the pool would run', () => {
  const plugins = (enabled: string, extra: string[] = []) =>
    taskqueue(['plugins', ...extra], `enabled = ${enabled}\n`, { paths: [generated] });

  it('says load: ok for a plugin that loads (exit 0)', async () => {
    const result = await plugins('echo, chatty');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^echo .*\n {2}group echo: .*\n {4}load: ok$/m);
    expect(result.stdout).toMatch(/^chatty .*\n {2}group chatty: .*\n {4}load: ok$/m);
    // What a plugin prints while it loads does not end up in the listing.
    expect(result.stdout).not.toContain('chatty: imported');
  });

  it('reports a plugin whose import throws, with its code (exit 1)', async () => {
    const result = await plugins('echo, throwonimport');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^ {2}group throwonimport: .*\n {4}load FAILED: TQ_ERR_PLUGIN_LOAD .*this module cannot be imported/m,
    );
    expect(result.stdout).toMatch(/^ {2}group echo: .*\n {4}load: ok$/m);
  });

  it('reports a plugin whose import hangs as timed out, and does not hang itself', async () => {
    const result = await plugins('hangonimport', ['--load-timeout', '2']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^ {4}load FAILED: TQ_ERR_PLUGIN_LOAD_TIMEOUT timed out/m);
  });

  it('--no-load reads package.json files only: no load line, no plugin code run', async () => {
    const result = await plugins('echo, throwonimport', ['--no-load']);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/load/);
  });
});
