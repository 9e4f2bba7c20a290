import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runToEnd } from '../../support/programs.js';

const SCAFFOLD = join(ROOT, 'src/create-taskqueue-plugin/dist/main.js');

/** The built program as npm runs it; the slow part (npm install, test, pack) is in integration. */
describe('create-taskqueue-plugin', () => {
  const work = mkdtempSync(join(tmpdir(), 'tq-scaffold-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const run = (...args: string[]) => runToEnd([process.execPath, SCAFFOLD, ...args]);

  it('writes the package, with its .gitignore, and says what to do next', async () => {
    const dir = join(work, 'fresh');
    const { code, stdout } = await run('wordcount', '--dir', dir, '--api-spec', '~1.1.2');
    expect(code).toBe(0);
    expect(readdirSync(dir, { recursive: true }).sort()).toEqual([
      '.gitignore',
      'README.md',
      'package.json',
      'src',
      'src/index.ts',
      'test',
      'test/index.test.ts',
      'tsconfig.json',
    ]);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({
      name: 'taskqueue-plugin-wordcount',
      version: '0.1.0',
      type: 'module',
      engines: { node: '>=20.19' },
      exports: './dist/src/index.js',
      files: ['dist/src'],
      taskqueue: { api: '^1.1.0' },
      peerDependencies: { '@taskqueue/plugin-api': '^1.1.0' },
      peerDependenciesMeta: { '@taskqueue/plugin-api': { optional: true } },
      devDependencies: { '@taskqueue/plugin-api': '~1.1.2' },
    });
    expect(Object.keys(manifest.scripts).sort()).toEqual(['build', 'prepack', 'test']);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toMatch(/^# taskqueue-plugin-wordcount$/m);
    expect(stdout).toMatch(/^ {2}cd \S*fresh$/m);
    for (const step of [
      'npm install',
      'npm test',
      'npm pack',
      'npm install -g ./taskqueue-plugin-wordcount-0.1.0.tgz',
      'plugin_paths',
      '.deb',
      'taskqueue run-task wordcount',
      'systemctl reload taskqueue-workerpool',
    ]) {
      expect(stdout).toContain(step);
    }
  });

  it('refuses a bad worker type with the usage, writing nothing (exit 64)', async () => {
    const dir = join(work, 'bad-type');
    const { code, stderr } = await run('x.retry', '--dir', dir);
    expect(code).toBe(64);
    expect(stderr).toContain('reserved segment "retry"');
    expect(stderr).toContain('usage: create-taskqueue-plugin <type>');
    expect(() => readdirSync(dir)).toThrow(/ENOENT/);
  });

  it('refuses a directory with files in it (exit 73), and writes into it with --force', async () => {
    const dir = join(work, 'taken');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const refused = await run('taken', '--dir', dir);
    expect(refused.code).toBe(73);
    expect(refused.stderr).toContain(`${dir} exists and is not empty`);
    expect(readdirSync(dir)).toEqual(['notes.txt']);

    const forced = await run('taken', '--dir', dir, '--force');
    expect(forced.code).toBe(0);
    expect(readdirSync(dir)).toContain('package.json');
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('prints its help on --help, and writes nothing', async () => {
    const { code, stdout } = await run('--help');
    expect(code).toBe(0);
    expect(stdout).toContain('--api-spec SPEC');
  });

  it('writes into an empty directory without --force', async () => {
    const dir = join(work, 'empty');
    mkdirSync(dir);
    expect((await run('empty', '--dir', dir)).code).toBe(0);
  });
});
