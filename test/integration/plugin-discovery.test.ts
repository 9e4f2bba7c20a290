import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import {
  FIXTURE_PLUGINS,
  Program,
  ROOT,
  trustedTempDir,
  writeConfig,
} from '../support/programs.js';

const CLI = join(ROOT, 'dist/cli/main.js');

/** A plugin package source: answers with its own name, so a result says who ran it. */
function writePlugin(dir: string, name: string, version: string, manifest: object = {}): string {
  const pkg = join(dir, name.replace('/', '__'));
  mkdirSync(join(pkg, 'lib'), { recursive: true });
  writeFileSync(
    join(pkg, 'lib/worker.js'),
    `export default class Worker {
  async handleTask(workitem) {
    workitem.fields.provider = ${JSON.stringify(`${name}@${version}`)};
    return workitem;
  }
}
`,
  );
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name,
      version,
      type: 'module',
      main: 'lib/worker.js',
      taskqueue: { api: '^1.0.0' },
      ...manifest,
    }),
  );
  return pkg;
}

describe('plugin discovery', () => {
  let work: string;
  let prefix: string;
  let globalRoot: string;
  let url: string;
  let config: ReturnType<typeof writeConfig>;
  /** The pool and the CLI find the global root the way an admin's shell would: npm's prefix. */
  const env = () => ({ NPM_CONFIG_PREFIX: prefix });

  beforeAll(async () => {
    // Not under /tmp: the pool refuses plugins below a world-writable directory. 0755: as root
    // the pool runs the children as nobody, who must read it.
    work = trustedTempDir('discovery-');
    prefix = join(work, 'prefix');
    const sources = join(work, 'src');
    const packed = join(work, 'packed');
    mkdirSync(sources);
    mkdirSync(packed);
    const packages = [
      writePlugin(sources, 'taskqueue-plugin-packed', '1.2.3'),
      // exports instead of main, and a scope
      writePlugin(sources, '@acme/taskqueue-plugin-scoped', '0.4.0', {
        main: undefined,
        exports: { '.': { import: './lib/worker.js' } },
      }),
      // the fixture path (plugin_paths) already provides `pid`: this one must be shadowed
      writePlugin(sources, 'taskqueue-plugin-pid', '9.9.9'),
    ];
    for (const pkg of packages) {
      execFileSync('npm', ['pack', '--silent', '--pack-destination', packed], {
        cwd: pkg,
        stdio: 'ignore',
      });
    }
    const tarballs = readdirSync(packed).map((file) => join(packed, file));
    expect(tarballs).toHaveLength(3);
    execFileSync(
      'npm',
      ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', ...tarballs],
      { stdio: 'ignore' },
    );
    globalRoot = execFileSync('npm', ['root', '-g'], {
      encoding: 'utf8',
      env: { ...process.env, ...env() },
    }).trim();
    expect(globalRoot).toBe(join(prefix, 'lib/node_modules'));

    url = await useVhost('discovery');
    config = writeConfig(`[amqp]
url = ${url}

[workerpool]
plugin_paths = ${FIXTURE_PLUGINS}
enabled = packed, scoped, pid, future-api
shutdown_timeout = 5

[pid]
workers = 2
`);
  }, 120_000);

  afterAll(() => {
    config?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('taskqueue plugins lists what was found where, what is shadowed and what is refused', () => {
    const listed = spawnSync(process.execPath, [CLI, 'plugins', '-c', config.file], {
      encoding: 'utf8',
      env: { ...process.env, ...env(), TASKQUEUE_LOG_PRETTY: '0' },
    });
    // future-api is enabled but refused: the configured type has no usable plugin.
    expect(listed.status).toBe(1);
    const out = listed.stdout;
    const lines = out.split('\n');
    const line = (start: string) => lines.find((l) => l.startsWith(start));
    expect(line('searched:')).toContain(globalRoot);
    expect(line('packed ')).toBe(
      `packed  taskqueue-plugin-packed@1.2.3  ${join(globalRoot, 'taskqueue-plugin-packed')}  api ^1.0.0`,
    );
    expect(line('scoped ')).toBe(
      `scoped  @acme/taskqueue-plugin-scoped@0.4.0  ${join(globalRoot, '@acme/taskqueue-plugin-scoped')}  api ^1.0.0`,
    );
    expect(line('pid ')).toContain(join(FIXTURE_PLUGINS, 'taskqueue-plugin-pid'));
    expect(out).toContain('  group pid: 2 children as');
    expect(line('shadowed:')).toBe(
      `shadowed: taskqueue-plugin-pid@9.9.9 at ${join(globalRoot, 'taskqueue-plugin-pid')} (type pid comes from ${join(FIXTURE_PLUGINS, 'taskqueue-plugin-pid')})`,
    );
    const futureApi = lines.indexOf(lines.find((l) => l.startsWith('future-api '))!);
    expect(lines[futureApi + 1]).toMatch(
      /^ {2}refused: taskqueue-plugin-future-api@1\.0\.0 needs plugin API \^2\.0\.0; this host provides 1\./,
    );
  });

  it('the pool runs the discovered plugins, logs the shadowed and refused ones, and runs the rest', async () => {
    const pool = new Program('workerpool', ['-c', config.file], env());
    const client = await TestClient.connect(url);
    try {
      await pool.waitForRunning('packed');
      await pool.waitForRunning('scoped');
      await pool.waitForRunning('pid', 2);
      const logs = pool.logs();
      expect(
        logs.find((l) => l.msg === 'plugin shadowed by an earlier one' && l.type === 'pid')?.path,
      ).toBe(join(globalRoot, 'taskqueue-plugin-pid'));
      expect(
        logs.find((l) => l.type === 'future-api' && String(l.msg).startsWith('plugin refused')),
      ).toBeDefined();
      expect(logs.some((l) => l.msg === 'child state' && l.group === 'future-api')).toBe(false);

      await client.declare('results');
      for (const type of ['packed', 'scoped', 'pid']) {
        await client.declare(`worker_${type}`);
        await client.publish(`worker_${type}`, workitem(type), { correlationId: type });
      }
      const results = await client.collect('results', 3, 30_000);
      const fields = Object.fromEntries(
        results.map((m) => [
          m.properties.correlationId,
          JSON.parse(m.content.toString()).fields as Record<string, unknown>,
        ]),
      );
      expect(fields.packed?.provider).toBe('taskqueue-plugin-packed@1.2.3');
      expect(fields.scoped?.provider).toBe('@acme/taskqueue-plugin-scoped@0.4.0');
      // The fixture's pid plugin won: it records a pid, the shadowed one would say provider.
      expect(fields.pid?.provider).toBeUndefined();
      expect(typeof fields.pid?.pid).toBe('number');
    } finally {
      await client.close();
      await pool.stop();
    }
  });
});
