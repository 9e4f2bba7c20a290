import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PLUGIN_PACKAGE_PATTERN } from './package-info.js';

/** A `plugin_paths` entry that names a plugin package rather than the folder that holds it. */
export interface MisplacedPluginPath {
  entry: string;
  /** The folder to name instead, when the package sits where discovery would find it. */
  parent: string | undefined;
  /** One sentence for the pool's log, `taskqueue plugins` and `check-config`. */
  warning: string;
}

/**
 * The `plugin_paths` entries that are themselves a plugin package (`/opt/plugins/
 * taskqueue-plugin-foo` for `/opt/plugins`): discovery looks for packages inside an entry, so
 * such an entry finds nothing, silently. Reads package.json only; runs no plugin code.
 */
export function misplacedPluginPaths(entries: readonly string[]): MisplacedPluginPath[] {
  const found: MisplacedPluginPath[] = [];
  for (const entry of entries) {
    const name = packageName(entry);
    if (name === undefined) continue;
    // Discovery finds <folder>/<name> or <folder>/@scope/<name>.
    const scoped = `${basename(dirname(entry))}/${basename(entry)}`;
    let parent: string | undefined;
    if (scoped.startsWith('@') && PLUGIN_PACKAGE_PATTERN.test(scoped)) {
      parent = dirname(dirname(entry));
    } else if (PLUGIN_PACKAGE_PATTERN.test(basename(entry))) parent = dirname(entry);
    const warning =
      parent === undefined
        ? `plugin_paths entry ${entry} is itself a plugin package (${name}); the pool looks for packages inside the folders named: put it in a folder as ${name} and name that folder`
        : `plugin_paths entry ${entry} is itself a plugin package; name the folder that holds packages: ${parent}`;
    found.push({ entry, parent, warning });
  }
  return found;
}

/** The package's name when `dir/package.json` names a plugin package, else undefined. */
function packageName(dir: string): string | undefined {
  try {
    const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      name?: unknown;
    };
    return typeof name === 'string' && PLUGIN_PACKAGE_PATTERN.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}
