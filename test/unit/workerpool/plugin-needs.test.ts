import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listPlugins } from '../../../src/cli/plugins.js';
import { parseConfigText } from '../../../src/common/config/load.js';
import { readPluginPackage } from '../../../src/workerpool/discovery/package-info.js';
import { misplacedPluginPaths } from '../../../src/workerpool/discovery/plugin-paths.js';
import { missingSettings } from '../../../src/workerpool/discovery/settings-check.js';
import { ROOT, trustedTempDir, WORKSPACE_PLUGINS } from '../../support/programs.js';

const SHELL_DIR = join(ROOT, 'plugins/shell');

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A plugin package whose package.json has `taskqueue.settings = settings`. */
function pluginWith(settings: unknown, name = 'taskqueue-plugin-needy'): string {
  const root = trustedTempDir('needs-');
  made.push(root);
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name, version: '1.0.0', taskqueue: { api: '^1.0.0', settings } }),
  );
  return dir;
}

describe('settings a plugin declares it requires', () => {
  it('the shell plugin declares command as required', () => {
    const shell = readPluginPackage(SHELL_DIR);
    expect(shell.settings.find((s) => s.name === 'command')).toMatchObject({ required: true });
    expect(shell.settings.filter((s) => s.required).map((s) => s.name)).toEqual(['command']);
  });

  it('are named, with the group and where to write them, when a group lacks them', () => {
    const shell = readPluginPackage(SHELL_DIR);
    const config = parseConfigText('[shell]\nworkers = 2\n\n[other]\ncommand = x\n', 'f.ini', {});
    const missing = missingSettings(shell, config.groupsFor('shell')[0]!, true);
    expect(missing?.settings.map((s) => s.name)).toEqual(['command']);
    expect(missing?.reason).toMatch(
      /^group shell lacks the setting command \(.+\) that taskqueue-plugin-shell requires: add command = … to \[shell\]$/,
    );
  });

  it('count an empty value as missing, and are satisfied by [DEFAULT] or the type section', () => {
    const shell = readPluginPackage(SHELL_DIR);
    const empty = parseConfigText('[shell]\ncommand =\n', 'f.ini', {});
    expect(missingSettings(shell, empty.groupsFor('shell')[0]!, true)).toBeDefined();
    const inherited = parseConfigText(
      '[DEFAULT]\ncommand = cat\n\n[shell]\nworkers = a\n\n[shell_a]\nworkers = 1\n',
      'f.ini',
      {},
    );
    expect(missingSettings(shell, inherited.groupsFor('shell')[0]!, true)).toBeUndefined();
  });

  it('say to add a section for a type the file has none for', () => {
    const shell = readPluginPackage(SHELL_DIR);
    const config = parseConfigText('', 'f.ini', {});
    expect(missingSettings(shell, config.groupsFor('shell')[0]!, false)?.reason).toMatch(
      /add a section \[shell\] with command = …$/,
    );
  });

  it.each([
    [['command'], /must be an object of setting names/],
    [{ Command: { required: true } }, /lowercase INI key/],
    [{ command: true }, /"taskqueue\.settings\.command" must be an object/],
    [{ command: { required: 'yes' } }, /required must be true or false/],
    [{ command: { description: 1 } }, /description must be a string/],
  ])('a malformed declaration %j makes the package unreadable', (settings, reason) => {
    expect(() => readPluginPackage(pluginWith(settings))).toThrow(reason);
  });

  it('taskqueue plugins names the refused group and the setting instead of counting children', async () => {
    const config = parseConfigText(
      `[workerpool]\nplugin_paths = ${WORKSPACE_PLUGINS}\nenabled = shell\n\n[shell]\nworkers = 1\n`,
      'f.ini',
      {},
    );
    const lines: string[] = [];
    await listPlugins(config, (line) => lines.push(line));
    const groupLines = lines.filter((l) => l.startsWith('  group shell'));
    expect(groupLines).toHaveLength(1);
    expect(groupLines[0]).toMatch(
      /^ {2}group shell: REFUSED: group shell lacks the setting command/,
    );
  });
});

describe('a plugin_paths entry that is itself a plugin package', () => {
  it('is named, with the folder to name instead', () => {
    const shell = join(WORKSPACE_PLUGINS, 'taskqueue-plugin-shell');
    expect(misplacedPluginPaths([WORKSPACE_PLUGINS, shell])).toEqual([
      {
        entry: shell,
        parent: WORKSPACE_PLUGINS,
        warning: `plugin_paths entry ${shell} is itself a plugin package; name the folder that holds packages: ${WORKSPACE_PLUGINS}`,
      },
    ]);
  });

  it('names the folder above the scope for a scoped package', () => {
    const dir = pluginWith(undefined, '@acme/taskqueue-plugin-x');
    expect(misplacedPluginPaths([dir])[0]?.parent).toBe(join(dir, '../..'));
  });

  it('says how to place a package whose folder is not named after it', () => {
    const dir = pluginWith(undefined, 'taskqueue-plugin-y');
    const checkout = join(dir, '..', 'my-checkout');
    mkdirSync(checkout);
    writeFileSync(join(checkout, 'package.json'), JSON.stringify({ name: 'taskqueue-plugin-y' }));
    const [found] = misplacedPluginPaths([checkout]);
    expect(found?.parent).toBeUndefined();
    expect(found?.warning).toContain(
      'put it in a folder as taskqueue-plugin-y and name that folder',
    );
  });

  it('is listed by taskqueue plugins as a warning', async () => {
    const shell = join(WORKSPACE_PLUGINS, 'taskqueue-plugin-shell');
    const config = parseConfigText(`[workerpool]\nplugin_paths = ${shell}\n`, 'f.ini', {});
    const lines: string[] = [];
    await listPlugins(config, (line) => lines.push(line));
    expect(lines).toContain(
      `warning: plugin_paths entry ${shell} is itself a plugin package; name the folder that holds packages: ${WORKSPACE_PLUGINS}`,
    );
  });
});
