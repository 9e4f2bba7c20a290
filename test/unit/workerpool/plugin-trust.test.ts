import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listPlugins } from '../../../src/cli/plugins.js';
import { parseConfigText } from '../../../src/common/config/load.js';
import { discoverPlugins } from '../../../src/workerpool/discovery/discovery.js';
import { trustPolicyFor } from '../../../src/workerpool/discovery/trust.js';
import { FIXTURE_PLUGINS, trustedTempDir, WORKSPACE_PLUGINS } from '../../support/programs.js';
import { isRoot } from '../../support/users.js';

// Giving a file to another owner needs root. CI runs as root; elsewhere say what is not tested.
if (!isRoot()) {
  console.warn('SKIPPED: plugin-trust ownership tests need root (chown); run them as root');
}

const NOBODY = 65534;
const ROOT_ONLY = trustPolicyFor(0);
/** The pool's own policy as this test runs: root only as root, else root or this user. */
const THIS_POOL = trustPolicyFor();

/** A plugin package of `type` in `dir`, every file 0644 and every directory 0755. */
function writePlugin(dir: string, type: string): string {
  const pkg = join(dir, `taskqueue-plugin-${type}`);
  mkdirSync(pkg, { mode: 0o755 });
  writeFileSync(join(pkg, 'index.js'), 'export default class W { handleTask(w) { return w; } }');
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({ name: `taskqueue-plugin-${type}`, version: '1.0.0', main: 'index.js' }),
  );
  return pkg;
}

const made: string[] = [];
function pluginRoot(): string {
  const dir = trustedTempDir('trust-');
  made.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('plugin paths and packages the pool trusts', () => {
  it("accepts a 0755 plugin directory owned by root (as root) or by the pool's user", () => {
    const root = pluginRoot();
    writePlugin(root, 'good');
    const found = discoverPlugins([root], THIS_POOL);
    expect([...found.plugins.keys()]).toEqual(['good']);
    expect(found.untrusted).toEqual([]);
  });

  it('refuses a mode-1777 plugin directory, naming it, and runs nothing from it', () => {
    const root = pluginRoot();
    writePlugin(root, 'planted');
    chmodSync(root, 0o1777);
    const found = discoverPlugins([root], THIS_POOL);
    expect(found.plugins.size).toBe(0);
    expect(found.untrusted).toEqual([
      { path: root, reason: `${root} is group- or world-writable (mode 1777)` },
    ]);
  });

  it('refuses a plugin directory below /tmp (sticky, world-writable)', () => {
    const root = mkdtempSync(join(tmpdir(), 'tq-trust-'));
    made.push(root);
    chmodSync(root, 0o755);
    writePlugin(root, 'planted');
    const found = discoverPlugins([root], ROOT_ONLY);
    expect(found.plugins.size).toBe(0);
    expect(found.untrusted[0]?.reason).toMatch(/^\/tmp is group- or world-writable \(mode 1777\)/);
  });

  it.runIf(isRoot())(
    'refuses a package owned by nobody: it neither runs nor shadows the trusted one',
    () => {
      const first = pluginRoot();
      const second = pluginRoot();
      const planted = writePlugin(first, 'echo');
      chownSync(planted, NOBODY, NOBODY);
      const genuine = writePlugin(second, 'echo');
      const found = discoverPlugins([first, second], ROOT_ONLY);
      expect(found.plugins.get('echo')?.dir).toBe(genuine);
      expect(found.shadowed).toEqual([]);
      expect(found.untrusted).toEqual([
        { path: planted, reason: `${planted} is owned by uid ${NOBODY}, not root` },
      ]);
    },
  );

  it.runIf(isRoot())('refuses a package whose package.json or entry someone else owns', () => {
    const root = pluginRoot();
    const byManifest = writePlugin(root, 'manifest');
    chownSync(join(byManifest, 'package.json'), NOBODY, NOBODY);
    const byEntry = writePlugin(root, 'entry');
    chmodSync(join(byEntry, 'index.js'), 0o666);
    const found = discoverPlugins([root], ROOT_ONLY);
    expect(found.plugins.size).toBe(0);
    expect(found.untrusted.map((u) => u.reason)).toEqual([
      `${join(byEntry, 'index.js')} is group- or world-writable (mode 0666)`,
      `${join(byManifest, 'package.json')} is owned by uid ${NOBODY}, not root`,
    ]);
  });

  it.runIf(isRoot())("trusts the pool's own uid when the pool is not root", () => {
    const root = pluginRoot();
    chownSync(writePlugin(root, 'mine'), NOBODY, NOBODY);
    expect(discoverPlugins([root], trustPolicyFor(NOBODY)).plugins.has('mine')).toBe(true);
    expect(discoverPlugins([root], ROOT_ONLY).plugins.has('mine')).toBe(false);
  });

  it("trusts this checkout's own plugins (the tests and npm start run them)", () => {
    const found = discoverPlugins([FIXTURE_PLUGINS, WORKSPACE_PLUGINS]);
    expect(found.untrusted).toEqual([]);
    expect(found.plugins.has('echo')).toBe(true);
  });

  it('taskqueue plugins shows a refused path with its reason', async () => {
    const root = pluginRoot();
    writePlugin(root, 'planted');
    chmodSync(root, 0o777);
    const config = parseConfigText(`[workerpool]\nplugin_paths = ${root}\n`, 'f.ini', {});
    const lines: string[] = [];
    await listPlugins(config, (line) => lines.push(line));
    expect(lines).toContain(`refused: ${root}: ${root} is group- or world-writable (mode 0777)`);
  });
});
