import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runTask } from '@taskqueue/plugin-api/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiIncompatibility } from '../../src/workerpool/discovery/api-check.js';
import { discoverPlugins } from '../../src/workerpool/discovery/discovery.js';
import { loadWorker } from '../../src/workerpool/discovery/load.js';
import { ROOT, trustedTempDir } from '../support/programs.js';

/** npm in `cwd`; its output, or a throw with npm's own words when it fails. */
function npm(cwd: string, ...args: string[]): string {
  try {
    return execFileSync('npm', ['--no-audit', '--no-fund', '--no-update-notifier', ...args], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const failed = err as { stdout?: string; stderr?: string };
    throw new Error(`npm ${args.join(' ')} in ${cwd} failed:\n${failed.stdout}\n${failed.stderr}`);
  }
}

/** The one tarball `npm pack` wrote for the package in `dir`. */
function pack(dir: string, destination: string): string {
  const [packed] = JSON.parse(
    npm(dir, 'pack', '--json', '--pack-destination', destination),
  ) as Array<{ filename: string }>;
  return join(destination, packed!.filename);
}

/**
 * A plugin author's path from the published packages to a pool that runs the plugin: the
 * scaffold's tarball run as `npm init taskqueue-plugin` runs it (npm exec), the generated
 * package installed against the API package's tarball (typescript and @types/node from the
 * registry), its own tests, its tarball, and that tarball installed where the pool looks.
 */
describe('create-taskqueue-plugin, from tarball to the pool', () => {
  let work: string;
  let plugin: string;
  let pluginTarball: string;

  beforeAll(() => {
    work = trustedTempDir('scaffold-');
    const packed = join(work, 'packed');
    mkdirSync(packed);
    const apiTarball = pack(join(ROOT, 'src/plugin-api'), packed);
    const scaffoldTarball = pack(join(ROOT, 'src/create-taskqueue-plugin'), packed);
    plugin = join(work, 'taskqueue-plugin-wordcount');
    npm(
      work,
      'exec',
      '--yes',
      `--package=${scaffoldTarball}`,
      '--',
      'create-taskqueue-plugin',
      'wordcount',
      '--api-spec',
      `file:${apiTarball}`,
    );
    npm(plugin, 'install', '--prefer-offline');
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('generates a package whose own npm test passes as generated', () => {
    const out = npm(plugin, 'test');
    expect(out).toMatch(/^# pass 5$/m);
    expect(out).toMatch(/^# fail 0$/m);
  }, 300_000);

  it('packs only the built worker, its package.json and README', () => {
    pluginTarball = pack(plugin, work);
    const files = execFileSync('tar', ['tzf', pluginTarball], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .sort();
    expect(files).toEqual([
      'package/README.md',
      'package/dist/src/index.js',
      'package/package.json',
    ]);
  }, 300_000);

  it('installs as root would, where the pool finds it, accepts its API range and runs it', async () => {
    expect(pluginTarball).toBeDefined();
    const prefix = join(work, 'prefix');
    npm(work, 'install', '-g', '--prefix', prefix, '--offline', pluginTarball);
    const root = join(prefix, 'lib/node_modules');
    // The API is an optional peer: the pool provides it, the package brings none.
    expect(existsSync(join(root, 'taskqueue-plugin-wordcount/node_modules'))).toBe(false);

    const discovery = discoverPlugins([root]);
    expect(discovery.untrusted).toEqual([]);
    expect(discovery.broken).toEqual([]);
    const found = discovery.plugins.get('wordcount');
    expect(found).toMatchObject({
      name: 'taskqueue-plugin-wordcount',
      version: '0.1.0',
      apiRange: '^1.1.0',
      entry: join(root, 'taskqueue-plugin-wordcount/dist/src/index.js'),
      settings: [expect.objectContaining({ name: 'min_length', required: false })],
    });
    expect(apiIncompatibility(found!)).toBeUndefined();

    const worker = await loadWorker(found!);
    const outcome = await runTask(
      worker,
      { fields: { text: 'to be or not to be' } },
      {
        settings: { min_length: '3' },
      },
    );
    expect(outcome.result?.fields.word_count).toBe(1);
    expect(readdirSync(root)).toEqual(['taskqueue-plugin-wordcount']);
  }, 300_000);
});
