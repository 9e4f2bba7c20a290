import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKER_TYPE_CHARS, workerTypeProblem } from '../../common/worker-type.js';

/**
 * The name pattern of plugin packages (SPEC §3); the type is the last group, in the type
 * grammar's characters. A reserved segment is refused when the package is read.
 */
export const PLUGIN_PACKAGE_PATTERN = new RegExp(
  `^(?:@[a-z0-9][a-z0-9._~-]*\\/)?taskqueue-plugin-(${WORKER_TYPE_CHARS})$`,
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
  /** The settings it declares (`"taskqueue": { "settings": { … } }`), in declaration order. */
  settings: PluginSetting[];
}

/**
 * A setting a plugin declares in its package.json, so that the pool and check-config can tell
 * what a group lacks before any plugin code runs:
 *
 * ```json
 * "taskqueue": { "api": "^1.0.0",
 *   "settings": { "command": { "required": true, "description": "the command line to run" } } }
 * ```
 */
export interface PluginSetting {
  /** The INI key, lowercase (ConfigParser lowercases keys). */
  name: string;
  /** Without a value for it the plugin cannot work: the pool refuses the group. */
  required: boolean;
  description: string | undefined;
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
    settings: declaredSettings(manifest.taskqueue?.settings),
  };
}

interface Manifest {
  name?: unknown;
  version?: unknown;
  main?: unknown;
  exports?: unknown;
  taskqueue?: { api?: unknown; settings?: unknown };
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

const SETTING_NAME = /^[a-z0-9_][a-z0-9_.-]*$/;

/** The declared settings; throws (the package is then reported as broken) when malformed. */
function declaredSettings(declared: unknown): PluginSetting[] {
  if (declared === undefined) return [];
  if (!isRecord(declared)) {
    throw new Error('"taskqueue.settings" must be an object of setting names');
  }
  return Object.entries(declared).map(([name, spec]) => {
    const where = `"taskqueue.settings.${name}"`;
    if (!SETTING_NAME.test(name)) {
      throw new Error(`${where}: a setting name is a lowercase INI key (${SETTING_NAME.source})`);
    }
    if (!isRecord(spec)) throw new Error(`${where} must be an object`);
    const { required = false, description } = spec;
    if (typeof required !== 'boolean') throw new Error(`${where}.required must be true or false`);
    if (description !== undefined && typeof description !== 'string') {
      throw new Error(`${where}.description must be a string`);
    }
    return { name, required, description };
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
