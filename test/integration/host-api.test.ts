import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import { type Program, ROOT, startPool, writeConfig } from '../support/programs.js';
import { isRoot } from '../support/users.js';

const API_PACKAGE_DIR = join(ROOT, 'src/plugin-api');

/**
 * A trusted directory (root-owned, 0755, not under /tmp) OUTSIDE the checkout: a plugin below
 * the checkout would find the checkout's node_modules/@taskqueue/plugin-api by Node's lookup
 * through parent directories, and never need the host's copy.
 */
function isolatedTrustedDir(prefix: string): string {
  const dir = mkdtempSync(join('/var/lib', prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/** A plugin that reports which copy of the API it got: `marker` is only in a bundled copy. */
function writePlugin(dir: string, type: string, manifest: object): string {
  const pkg = join(dir, `taskqueue-plugin-${type}`);
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    join(pkg, 'index.js'),
    `import * as api from '@taskqueue/plugin-api';
import { runTask } from '@taskqueue/plugin-api/testing';

export default class Worker extends api.BaseWorker {
  async handleTask(workitem) {
    workitem.fields.api = api.apiVersion;
    workitem.fields.copy = api.marker ?? 'host';
    workitem.fields.testing = typeof runTask;
    return workitem;
  }
}
`,
  );
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: `taskqueue-plugin-${type}`,
      version: '1.0.0',
      type: 'module',
      main: 'index.js',
      ...manifest,
    }),
  );
  return pkg;
}

const OPTIONAL_PEER = {
  peerDependencies: { '@taskqueue/plugin-api': '^1.0.0' },
  peerDependenciesMeta: { '@taskqueue/plugin-api': { optional: true } },
};

describe.skipIf(!isRoot())('the host provides @taskqueue/plugin-api to plugins without it', () => {
  let work: string;
  let url: string;
  let config: ReturnType<typeof writeConfig>;
  let pool: Program;
  let client: TestClient;

  beforeAll(async () => {
    work = isolatedTrustedDir('tq-host-api-');
    const plugins = join(work, 'plugins');
    // No node_modules anywhere above it: only the host can give it the API.
    writePlugin(plugins, 'hostapi', { taskqueue: { api: '^1.0.0' }, ...OPTIONAL_PEER });
    // Its own copy of the package, told apart by a marker export the host's copy lacks.
    const bundled = writePlugin(plugins, 'bundled', { taskqueue: { api: '^1.0.0' } });
    const copy = join(bundled, 'node_modules/@taskqueue/plugin-api');
    mkdirSync(copy, { recursive: true });
    cpSync(join(API_PACKAGE_DIR, 'package.json'), join(copy, 'package.json'));
    cpSync(join(API_PACKAGE_DIR, 'dist'), join(copy, 'dist'), { recursive: true });
    appendFileSync(join(copy, 'dist/index.js'), "\nexport const marker = 'bundled';\n");
    // The range only as a peer dependency, and one this host cannot meet.
    writePlugin(plugins, 'peertwo', { peerDependencies: { '@taskqueue/plugin-api': '^2.0.0' } });

    // The example plugin as an admin installs it: packed, then installed from the tarball with
    // no registry to fetch the (optional) peer dependency from.
    const packed = join(work, 'packed');
    mkdirSync(packed);
    execFileSync('npm', ['pack', '--silent', '--pack-destination', packed], {
      cwd: join(ROOT, 'plugins/echo'),
      stdio: 'ignore',
    });
    const [tarball] = readdirSync(packed);
    const installed = join(work, 'installed');
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        installed,
        '--offline',
        '--no-audit',
        '--no-fund',
        join(packed, tarball!),
      ],
      { stdio: 'pipe' },
    );

    url = await useVhost('host-api');
    config = writeConfig(`[amqp]
url = ${url}
connect_retries = 60

[workerpool]
plugin_paths = ${plugins}, ${join(installed, 'node_modules')}
enabled = hostapi, bundled, peertwo, echo
shutdown_timeout = 5
`);
    pool = startPool(config.file);
    client = await TestClient.connect(url);
  }, 180_000);

  afterAll(async () => {
    await client?.close();
    await pool?.stop();
    config?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('refuses a plugin whose peer dependency range excludes this host, naming both versions', async () => {
    const line = await pool.waitFor(/plugin refused/);
    expect(JSON.parse(line)).toMatchObject({
      type: 'peertwo',
      msg: 'plugin refused: taskqueue-plugin-peertwo@1.0.0 needs plugin API ^2.0.0; this host provides 1.1.0',
    });
  });

  it('runs each plugin with the copy it should get, and the tarball-installed echo', async () => {
    for (const group of ['hostapi', 'bundled', 'echo']) await pool.waitForRunning(group);
    await client.declare('results');
    for (const type of ['hostapi', 'bundled', 'echo']) {
      await client.declare(`worker_${type}`);
      await client.publish(`worker_${type}`, workitem(type, { from: type }), {
        correlationId: type,
      });
    }
    const results = await client.collect('results', 3, 30_000);
    const bodies = results.map((m) => ({
      id: m.properties.correlationId as string,
      body: JSON.parse(m.content.toString()) as { fields: Record<string, unknown> },
    }));
    // An error result has `error` beside `fields`: none of these may be one.
    for (const { id, body } of bodies) expect(body, id).not.toHaveProperty('error');
    const fields = Object.fromEntries(bodies.map(({ id, body }) => [id, body.fields]));
    expect(fields.hostapi).toMatchObject({ api: '1.1.0', copy: 'host', testing: 'function' });
    expect(fields.bundled).toMatchObject({ copy: 'bundled', testing: 'function' });
    expect(fields.echo).toMatchObject({ from: 'echo' });
  });
});
