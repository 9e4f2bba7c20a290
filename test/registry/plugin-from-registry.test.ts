/**
 * A plugin's whole life through a real npm registry, as an outside developer and an operator go
 * through it: the API package and the scaffold are published to a private verdaccio; `npm init
 * taskqueue-plugin` makes a plugin whose own tests pass; it is published, installed with
 * `npm install -g --prefix` into a folder a running pool searches, and served after SIGHUP; a new
 * version restarts its group only; a plugin for another API is refused, naming both versions.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import { livePids } from '../support/pool-children.js';
import {
  FIXTURE_PLUGINS,
  type Program,
  ROOT,
  RUN_ROOT,
  runToEnd,
  startPool,
  trustedTempDir,
  writeConfig,
} from '../support/programs.js';
import { LocalRegistry } from '../support/registry.js';

/** The scaffolded plugin's type, and the type of the plugin made for an API that does not exist. */
const TYPE = 'scaffolded';
const FUTURE = 'needs-nine';
const API_PACKAGE = '@taskqueue/plugin-api';
/** npm steps on a fresh machine fetch typescript and @types/node through the registry's uplink. */
const STEP_TIMEOUT_MS = 300_000;

const hostApiVersion = (
  JSON.parse(readFileSync(join(ROOT, 'src/plugin-api/package.json'), 'utf8')) as {
    version: string;
  }
).version;

/** Second-resolution timings of the steps, printed together at the end. */
const timings: Array<[string, number]> = [];
const note = (line: string) => console.log(`[registry] ${line}`);

describe('a plugin from npm init to a running pool, through a real npm registry', () => {
  let registry: LocalRegistry;
  /** The plugin authors' working directory (projects are made here). */
  let work: string;
  /** `npm install -g --prefix` target: the pool searches `<prefix>/lib/node_modules`. */
  let prefix: string;
  let config: ReturnType<typeof writeConfig>;
  let pool: Program;
  let client: TestClient;
  let initStarted = 0;

  const npm = async (step: string, args: string[], cwd: string) => {
    const run = await registry.npm(args, cwd);
    timings.push([step, run.ms]);
    return run;
  };
  const project = (type: string) => join(work, `taskqueue-plugin-${type}`);
  const installed = (type: string) => join(prefix, 'lib/node_modules', `taskqueue-plugin-${type}`);

  const configText = (url: string) => `[amqp]
url = ${url}
connect_retries = 60

[workerpool]
plugin_paths = ${join(prefix, 'lib/node_modules')}, ${FIXTURE_PLUGINS}
enabled = ${TYPE}, ${FUTURE}, pid
shutdown_timeout = 10
log_level = debug

[pid]
workers = 2
`;

  /** Publishes one task of `type` and resolves with its result's body. */
  const serve = async (type: string, id: string, fields: Record<string, unknown>) => {
    await client.declare(`worker_${type}`);
    await client.publish(`worker_${type}`, workitem(type, fields), { correlationId: id });
    const [result] = await client.collect('results', 1, 60_000);
    expect(result, `no result for ${id}\n${pool.tail()}`).toBeDefined();
    expect(result!.properties.correlationId).toBe(id);
    return JSON.parse(result!.content.toString()) as Record<string, unknown> & {
      fields: Record<string, unknown>;
    };
  };

  /** SIGHUP, and the pool's "reloaded" line that follows it. */
  const reload = async () => {
    const before = pool.lines.length;
    pool.process.kill('SIGHUP');
    await expect
      .poll(() => pool.lines.slice(before).some((l) => l.includes('"msg":"reloaded"')), {
        timeout: 30_000,
      })
      .toBe(true);
    return pool.lines.slice(before);
  };

  beforeAll(async () => {
    registry = await LocalRegistry.start(note);
    work = mkdtempSync(join(tmpdir(), 'tq-registry-work-'));
    prefix = trustedTempDir('registry-prefix-');
    const url = await useVhost('registry');
    client = await TestClient.connect(url);
    await client.declare('results');
    config = writeConfig(configText(url));
    pool = startPool(config.file);
    await pool.waitForRunning('pid', 2);
  }, 900_000);

  // Each step builds on the one before: after a failure, the rest are skipped, and the first
  // failure's npm output is the one to read.
  let failed = false;
  beforeEach((context) => {
    if (failed) context.skip();
  });
  afterEach((context) => {
    if (context.task.result?.state !== 'fail' || failed) return;
    failed = true;
    // An npm failure through the uplink (npmjs unreachable, a tarball refused) shows here.
    note(`verdaccio's log (warnings and errors):\n${registry?.log().trim() || '(empty)'}`);
  });

  afterAll(async () => {
    await client?.close();
    await pool?.stop();
    await registry?.stop();
    config?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
    if (prefix) rmSync(prefix, { recursive: true, force: true });
    if (timings.length > 0) {
      note(
        `step timings: ${timings.map(([s, ms]) => `${s} ${(ms / 1000).toFixed(1)} s`).join(', ')}`,
      );
    }
  });

  it(
    'publishes @taskqueue/plugin-api and create-taskqueue-plugin from the workspaces',
    async () => {
      await npm('publish api', ['publish', '--workspace', 'src/plugin-api'], ROOT);
      await npm(
        'publish scaffold',
        ['publish', '--workspace', 'src/create-taskqueue-plugin'],
        ROOT,
      );
      const view = await registry.npm(['view', API_PACKAGE, 'version'], work);
      expect(view.stdout.trim()).toBe(hostApiVersion);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'npm init taskqueue-plugin makes a project whose own tests pass against the published API',
    async () => {
      initStarted = Date.now();
      await npm('npm init', ['init', '--yes', 'taskqueue-plugin', TYPE], work);
      await npm('npm install', ['install'], project(TYPE));
      const api = JSON.parse(
        readFileSync(join(project(TYPE), 'node_modules', API_PACKAGE, 'package.json'), 'utf8'),
      ) as { version: string };
      expect(api.version).toBe(hostApiVersion);
      const tested = await npm('npm test', ['test'], project(TYPE));
      expect(tested.stdout).toMatch(/^# fail 0$/m);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'npm publish, npm install -g --prefix, SIGHUP: the pool serves the new type',
    async () => {
      await npm('npm publish', ['publish'], project(TYPE));
      await npm(
        'npm install -g',
        ['install', '-g', '--prefix', prefix, `taskqueue-plugin-${TYPE}`],
        work,
      );
      // The API's peer dependency is optional: the plugin runs on the host's copy.
      expect(existsSync(join(installed(TYPE), 'node_modules', API_PACKAGE))).toBe(false);
      expect(existsSync(join(prefix, 'lib/node_modules', API_PACKAGE))).toBe(false);

      const pidGroup = livePids(pool, 'pid');
      await reload();
      await pool.waitForRunning(TYPE, 1, 60_000);
      const result = await serve(TYPE, 'first', { text: 'a plugin from the registry' });
      const firstAnswerS = (Date.now() - initStarted) / 1000;
      note(`npm init → first answered task: ${firstAnswerS.toFixed(1)} s`);
      expect(result.error, JSON.stringify(result)).toBeUndefined();
      expect(result.fields.text).toBe('a plugin from the registry');
      expect(livePids(pool, 'pid')).toEqual(pidGroup);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'a new version, published and installed, restarts only its group and serves the new code',
    async () => {
      const dir = project(TYPE);
      const name = `taskqueue-plugin-${TYPE}`;
      writeFileSync(join(dir, 'src/index.ts'), markingWorker(`${name}@0.2.0`));
      writeFileSync(join(dir, 'test/index.test.ts'), markingWorkerTest(`${name}@0.2.0`));
      await npm('npm version', ['version', 'minor', '--no-git-tag-version'], dir);
      const tested = await npm('npm test (0.2.0)', ['test'], dir);
      expect(tested.stdout).toMatch(/^# fail 0$/m);
      await npm('npm publish (0.2.0)', ['publish'], dir);
      await npm(
        'npm install -g (0.2.0)',
        ['install', '-g', '--prefix', prefix, `${name}@0.2.0`],
        work,
      );

      const pidGroup = livePids(pool, 'pid');
      const old = livePids(pool, TYPE);
      expect(old).toHaveLength(1);
      const lines = await reload();
      expect(lines.join('\n')).toMatch(
        new RegExp(`"group":"${TYPE}".*"msg":"reload: group changed; restarting it"`),
      );
      // One new child, and the old one gone: a task now can only meet the new code.
      await expect
        .poll(
          () => {
            const now = livePids(pool, TYPE);
            return now.length === 1 && !old.includes(now[0]!);
          },
          { timeout: 60_000 },
        )
        .toBe(true);
      const result = await serve(TYPE, 'second', { text: 'the same words again' });
      expect(result.fields.served_by).toBe(`${name}@0.2.0`);
      expect(livePids(pool, 'pid')).toEqual(pidGroup);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'a plugin for API ^9.0.0 is refused, in the pool’s log and in taskqueue plugins, naming both versions',
    async () => {
      const dir = project(FUTURE);
      await npm('npm init (future)', ['init', '--yes', 'taskqueue-plugin', FUTURE], work);
      const manifestFile = join(dir, 'package.json');
      const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
        taskqueue: { api: string };
      };
      manifest.taskqueue.api = '^9.0.0';
      writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
      await npm('npm install (future)', ['install'], dir);
      await npm('npm publish (future)', ['publish'], dir);
      await npm(
        'npm install -g (future)',
        ['install', '-g', '--prefix', prefix, `taskqueue-plugin-${FUTURE}`],
        work,
      );

      const refusal = `taskqueue-plugin-${FUTURE}@0.1.0 needs plugin API ^9.0.0; this host provides ${hostApiVersion}`;
      const before = [...livePids(pool, 'pid'), ...livePids(pool, TYPE)];
      const lines = await reload();
      const refused = lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((l) => l.msg === `plugin refused: ${refusal}`);
      expect(refused, lines.join('\n')).toMatchObject({ level: 50, type: FUTURE });
      expect([...livePids(pool, 'pid'), ...livePids(pool, TYPE)]).toEqual(before);

      const listed = await runToEnd([
        process.execPath,
        join(RUN_ROOT, 'dist/cli/main.js'),
        'plugins',
        '-c',
        config.file,
      ]);
      expect(listed.stdout).toContain(`  refused: ${refusal}`);
      expect(listed.code, listed.stdout + listed.stderr).toBe(1);

      const result = await serve(TYPE, 'third', { text: 'still served' });
      expect(result.fields.served_by).toBe(`taskqueue-plugin-${TYPE}@0.2.0`);
    },
    STEP_TIMEOUT_MS,
  );
});

/** Version 0.2.0 of the scaffolded plugin, as its author would write it. */
function markingWorker(servedBy: string): string {
  return `import { BaseWorker, type Workitem } from '@taskqueue/plugin-api';

/** Marks every workitem with the package version that served it. */
export default class MarkingWorker extends BaseWorker {
  override async handleTask(workitem: Workitem): Promise<Workitem> {
    return { ...workitem, fields: { ...workitem.fields, served_by: ${JSON.stringify(servedBy)} } };
  }
}
`;
}

function markingWorkerTest(servedBy: string): string {
  return `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runTask } from '@taskqueue/plugin-api/testing';
import MarkingWorker from '../src/index.js';

test('marks the workitem with the version that served it', async () => {
  const outcome = await runTask(MarkingWorker, { fields: { n: 1 } });
  assert.equal(outcome.status, 'result');
  assert.equal(outcome.result?.fields.served_by, ${JSON.stringify(servedBy)});
});
`;
}
