import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PLUGIN_PACKAGE_PATTERN, type PluginPackage, readPluginPackage } from './package-info.js';

/** Where Debian packages of plugins install them (SPEC §3). */
export const DEBIAN_PLUGIN_PATH = '/usr/lib/taskqueue/plugins/node_modules';

/** A plugin found on the paths, or why one was passed over. */
export interface Discovery {
  /** The winning package per type, in discovery order. */
  plugins: Map<string, PluginPackage>;
  /** Packages of a type that an earlier path already provides. */
  shadowed: Array<{ plugin: PluginPackage; by: PluginPackage }>;
  /** Directories that look like plugins but have no readable package.json. */
  broken: Array<{ dir: string; reason: string }>;
  /** The paths searched, in order. */
  paths: string[];
}

/** The search order: config's `plugin_paths`, the Debian path, the global npm roots, NODE_PATH. */
export function pluginSearchPaths(
  configured: string[],
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const paths = [
    ...configured,
    DEBIAN_PLUGIN_PATH,
    ...npmGlobalRoot(),
    '/usr/local/lib/node_modules',
    '/usr/lib/node_modules',
    ...(env.NODE_PATH ?? '').split(delimiter).filter(Boolean),
  ];
  return [...new Set(paths)];
}

/** Finds every `taskqueue-plugin-<type>` and `@scope/taskqueue-plugin-<type>` package. */
export function discoverPlugins(paths: string[]): Discovery {
  const result: Discovery = { plugins: new Map(), shadowed: [], broken: [], paths };
  for (const path of paths) {
    for (const dir of candidateDirs(path)) {
      let plugin: PluginPackage;
      try {
        plugin = readPluginPackage(dir);
      } catch (err) {
        result.broken.push({ dir, reason: (err as Error).message });
        continue;
      }
      const winner = result.plugins.get(plugin.type);
      if (winner) result.shadowed.push({ plugin, by: winner });
      else result.plugins.set(plugin.type, plugin);
    }
  }
  return result;
}

function candidateDirs(path: string): string[] {
  const names = listDir(path);
  const dirs: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('@')) {
      for (const inner of listDir(join(path, name)).sort()) {
        if (PLUGIN_PACKAGE_PATTERN.test(`${name}/${inner}`)) dirs.push(join(path, name, inner));
      }
    } else if (PLUGIN_PACKAGE_PATTERN.test(name)) {
      dirs.push(join(path, name));
    }
  }
  return dirs;
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

let cachedNpmRoot: string[] | undefined;

/** `npm root -g`, asked once; empty when npm is not installed (as on a minimal server). */
function npmGlobalRoot(): string[] {
  if (cachedNpmRoot) return cachedNpmRoot;
  try {
    const root = execFileSync('npm', ['root', '-g'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    cachedNpmRoot = root && existsSync(root) ? [root] : [];
  } catch {
    cachedNpmRoot = [];
  }
  return cachedNpmRoot;
}
