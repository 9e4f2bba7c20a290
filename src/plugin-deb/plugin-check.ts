import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import semver from 'semver';
import { TqError } from '../common/errors.js';
import { apiIncompatibility } from '../workerpool/discovery/api-check.js';
import { type PluginPackage, readPluginPackage } from '../workerpool/discovery/package-info.js';

/**
 * The unpacked tarball as the pool would read it, or why the pool would not run it: the same
 * reading (package name, type, settings) and API check as discovery, so that a package this
 * tool builds is one the pool accepts. `from` names the tarball in messages.
 */
export function checkPlugin(dir: string, from: string): PluginPackage {
  let plugin: PluginPackage;
  try {
    plugin = readPluginPackage(dir);
  } catch (err) {
    throw new TqError(
      'TQ_ERR_PLUGIN_DEB_INPUT',
      `${from}: not a taskqueue plugin: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no package.json' : (err as Error).message}`,
      { cause: err },
    );
  }
  const incompatible = apiIncompatibility(plugin);
  if (incompatible !== undefined) {
    // A range this host does not satisfy is the plugin API's own refusal; no or a malformed
    // range means the tarball is not a plugin yet.
    const declared = plugin.apiRange !== undefined && semver.validRange(plugin.apiRange) !== null;
    throw new TqError(
      declared ? 'TQ_ERR_PLUGIN_API' : 'TQ_ERR_PLUGIN_DEB_INPUT',
      `${from}: ${incompatible}`,
    );
  }
  if (!existsSync(plugin.entry)) {
    throw new TqError(
      'TQ_ERR_PLUGIN_DEB_INPUT',
      `${from}: ${plugin.name}'s entry module ${relative(dir, plugin.entry)} is not in the tarball (built before npm pack? listed in "files"?)`,
    );
  }
  return plugin;
}

/**
 * Refuses native code: the package is `Architecture: all`, and its dependencies are installed
 * without running their scripts, so an addon would be for the build machine or not built at all.
 */
export function refuseNativeCode(dir: string, from: string): void {
  const found = findFile(dir, (name) => name.endsWith('.node') || name === 'binding.gyp');
  if (found !== undefined) {
    throw new TqError(
      'TQ_ERR_PLUGIN_DEB_INPUT',
      `${from}: holds native code (${relative(dir, found)}); taskqueue-plugin-deb makes Architecture: all packages of JavaScript only`,
    );
  }
}

function findFile(dir: string, wanted: (name: string) => boolean): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isFile() && wanted(entry.name)) return path;
    if (entry.isDirectory()) {
      const found = findFile(path, wanted);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
