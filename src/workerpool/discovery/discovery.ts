import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { PLUGIN_PACKAGE_PATTERN, type PluginPackage, readPluginPackage } from './package-info.js';
import { type TrustPolicy, trustPolicyFor, untrustedReason } from './trust.js';

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
  /**
   * Search paths and packages passed over because someone other than root (or the pool's own
   * user) could change them (trust.ts); they neither run nor shadow anything.
   */
  untrusted: Array<{ path: string; reason: string }>;
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

/**
 * Finds every `taskqueue-plugin-<type>` and `@scope/taskqueue-plugin-<type>` package on paths
 * that `policy` trusts (by default: owned by root, or by the pool's user when it is not root).
 */
export function discoverPlugins(
  paths: string[],
  policy: TrustPolicy = trustPolicyFor(),
): Discovery {
  const result: Discovery = { plugins: new Map(), shadowed: [], broken: [], untrusted: [], paths };
  for (const path of paths) {
    const dirs = candidateDirs(path);
    if (dirs.length === 0) continue;
    const pathReason = untrustedReason(path, policy);
    if (pathReason !== undefined) {
      result.untrusted.push({ path, reason: pathReason });
      continue;
    }
    for (const dir of dirs) {
      // The package directory and, for a scoped one, the scope's directory.
      const dirReason = untrustedReason(dirname(dir), policy) ?? untrustedReason(dir, policy);
      if (dirReason !== undefined) {
        result.untrusted.push({ path: dir, reason: dirReason });
        continue;
      }
      let plugin: PluginPackage;
      try {
        plugin = readPluginPackage(dir);
      } catch (err) {
        result.broken.push({ dir, reason: (err as Error).message });
        continue;
      }
      const fileReason = untrustedFiles(plugin, policy);
      if (fileReason !== undefined) {
        result.untrusted.push({ path: dir, reason: fileReason });
        continue;
      }
      const winner = result.plugins.get(plugin.type);
      if (winner) result.shadowed.push({ plugin, by: winner });
      else result.plugins.set(plugin.type, plugin);
    }
  }
  return result;
}

/** Why the package's package.json or entry module is not trusted (a symlink may lead anywhere). */
function untrustedFiles(plugin: PluginPackage, policy: TrustPolicy): string | undefined {
  const manifest = untrustedReason(join(plugin.dir, 'package.json'), policy);
  if (manifest !== undefined) return manifest;
  // A missing entry is the loader's to report (TQ_ERR_PLUGIN_LOAD), as before.
  return existsSync(plugin.entry) ? untrustedReason(plugin.entry, policy) : undefined;
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
