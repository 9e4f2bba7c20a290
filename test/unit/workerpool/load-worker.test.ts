import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiVersion } from '@taskqueue/plugin-api';
import { afterEach, describe, expect, it } from 'vitest';
import { loadWorker } from '../../../src/workerpool/discovery/load.js';
import { readPluginPackage } from '../../../src/workerpool/discovery/package-info.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A plugin package on disk that declares `range`; its worker answers with `mark`. */
function pluginDeclaring(range: string, mark = 'loaded'): string {
  const dir = mkdtempSync(join(tmpdir(), 'tq-load-'));
  dirs.push(dir);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'taskqueue-plugin-probe',
      version: '1.2.3',
      type: 'module',
      main: 'index.js',
      taskqueue: { api: range },
    }),
  );
  writeFileSync(
    join(dir, 'index.js'),
    `export default class { async handleTask() { return { fields: { mark: '${mark}' } }; } }`,
  );
  return dir;
}

describe('loadWorker', () => {
  it("takes the pool's verdict when the range is still the one it accepted for this host's API", async () => {
    // A range this host does not satisfy: loaded all the same, so the check was not made again.
    const plugin = readPluginPackage(pluginDeclaring('^99.0.0', 'trusted'));
    const worker = await loadWorker(plugin, { range: '^99.0.0', host: apiVersion });
    expect(await worker.handleTask({ fields: {} }, {} as never)).toEqual({
      fields: { mark: 'trusted' },
    });
  });

  it('checks again, and refuses, a package whose range changed on disk since the pool read it', async () => {
    const plugin = readPluginPackage(pluginDeclaring('^99.0.0'));
    await expect(loadWorker(plugin, { range: '^1.0.0', host: apiVersion })).rejects.toMatchObject({
      code: 'TQ_ERR_PLUGIN_API',
      message: `taskqueue-plugin-probe@1.2.3 needs plugin API ^99.0.0; this host provides ${apiVersion}`,
    });
  });

  it('checks again when the pool accepted the range for another host API version', async () => {
    const plugin = readPluginPackage(pluginDeclaring('^99.0.0'));
    await expect(loadWorker(plugin, { range: '^99.0.0', host: '99.0.0' })).rejects.toMatchObject({
      code: 'TQ_ERR_PLUGIN_API',
    });
  });

  it('checks the range itself without a verdict from the pool', async () => {
    await expect(
      loadWorker(readPluginPackage(pluginDeclaring('not a range'))),
    ).rejects.toMatchObject({
      code: 'TQ_ERR_PLUGIN_API',
      message: expect.stringContaining('invalid API range'),
    });
    const worker = await loadWorker(readPluginPackage(pluginDeclaring('^1.0.0', 'checked')));
    expect(await worker.handleTask({ fields: {} }, {} as never)).toEqual({
      fields: { mark: 'checked' },
    });
  });
});
