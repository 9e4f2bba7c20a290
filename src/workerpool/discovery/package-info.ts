import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKER_TYPE_PATTERN, workerTypeProblem } from '../../common/worker-type.js';

/**
 * The name pattern of plugin packages (SPEC §3); the type is the last group, in the type
 * grammar's characters. A reserved segment is refused when the package is read.
 */
export const PLUGIN_PACKAGE_PATTERN = new RegExp(
  `^(?:@[a-z0-9][a-z0-9._~-]*\\/)?taskqueue-plugin-(${WORKER_TYPE_PATTERN.source.slice(1, -1)})$`,
);

/** What the host reads from a plugin's package.json, without running any of its code. */
export interface PluginPackage {
  /** The worker type it provides. */
  type: string;
  name: string;
  version: string;
  dir: string;
  /** The plugin-api range it declares, or undefined when it declares none. */
  apiRange: string | undefined;
  /** Absolute path of the module to import. */
  entry: string;
}

/** Reads `dir/package.json`; throws with the reason when it is not a plugin package. */
export function readPluginPackage(dir: string): PluginPackage {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
  const name = String(manifest.name ?? '');
  const match = PLUGIN_PACKAGE_PATTERN.exec(name);
  if (!match) throw new Error(`package name "${name}" is not taskqueue-plugin-<type>`);
  const type = match[1]!;
  const problem = workerTypeProblem(type);
  if (problem !== undefined) throw new Error(`package "${name}": worker type ${problem}`);
  return {
    type,
    name,
    version: String(manifest.version ?? '0.0.0'),
    dir,
    apiRange: declaredApiRange(manifest),
    entry: join(dir, entryOf(manifest)),
  };
}

interface Manifest {
  name?: unknown;
  version?: unknown;
  main?: unknown;
  exports?: unknown;
  taskqueue?: { api?: unknown };
  peerDependencies?: Record<string, unknown>;
  dependencies?: Record<string, unknown>;
}

const API_PACKAGE = '@taskqueue/plugin-api';

function declaredApiRange(manifest: Manifest): string | undefined {
  const candidates = [
    manifest.taskqueue?.api,
    manifest.peerDependencies?.[API_PACKAGE],
    manifest.dependencies?.[API_PACKAGE],
  ];
  const range = candidates.find((value) => typeof value === 'string');
  return range as string | undefined;
}

/** The package's main module per Node's rules: `exports["."]` (import/default), else `main`. */
function entryOf(manifest: Manifest): string {
  const root = exportRoot(manifest.exports);
  if (root) return root;
  if (typeof manifest.main === 'string') return manifest.main;
  return 'index.js';
}

function exportRoot(exportsField: unknown): string | undefined {
  if (typeof exportsField === 'string') return exportsField;
  if (typeof exportsField !== 'object' || exportsField === null) return undefined;
  const record = exportsField as Record<string, unknown>;
  const root = '.' in record ? record['.'] : record;
  if (typeof root === 'string') return root;
  if (typeof root !== 'object' || root === null) return undefined;
  for (const condition of ['import', 'node', 'default']) {
    const target = exportRoot((root as Record<string, unknown>)[condition]);
    if (target) return target;
  }
  return undefined;
}
