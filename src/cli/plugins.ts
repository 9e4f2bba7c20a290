import { fileURLToPath } from 'node:url';
import { apiVersion } from '@taskqueue/plugin-api';
import type { Config } from '../common/config/types.js';
import { ExitStatus } from '../common/exit.js';
import { CHILD_ENTRY } from '../workerpool/child-command.js';
import { apiIncompatibility } from '../workerpool/discovery/api-check.js';
import { discoverPlugins, pluginSearchPaths } from '../workerpool/discovery/discovery.js';
import { misplacedPluginPaths } from '../workerpool/discovery/plugin-paths.js';
import { decideGroup } from '../workerpool/group-decision.js';
import type { OneShotPlugin } from '../workerpool/one-shot-ipc.js';
import { LOAD_CONCURRENCY, type LoadCheck, loadCheck, mapBounded } from './plugin-load-check.js';

/**
 * Exit status of `taskqueue plugins` when a type the config asks for has no usable plugin, or a
 * plugin the pool would run fails to load.
 */
export const PLUGINS_MISSING_STATUS = ExitStatus.FAILURE;

export interface ListPluginsOptions {
  /** Load each plugin the pool would run, in a child as its group's user (not `--no-load`). */
  load: boolean;
  /** How long a plugin may take to load before it counts as timed out. */
  loadTimeoutMs: number;
}

/** A group whose plugin is to be loaded; its line of the listing is written once it has. */
interface PendingLoad {
  key: string;
  plugin: OneShotPlugin;
}

/**
 * `taskqueue plugins`: what the pool would run, and why it would not run the rest. With `load`,
 * each plugin the pool would run is also loaded for real, in a child started as the pool starts
 * the group's children (its user, its node flags), at most LOAD_CONCURRENCY at a time, each
 * under `loadTimeoutMs`: `load: ok`, or `load FAILED: <code> <message>`. Only loaded: its
 * `setup` is not called (it may connect to other systems). Groups of the same plugin and user
 * share one load.
 *
 * Returns 0, or PLUGINS_MISSING_STATUS when a type the config names (a section, or an entry of
 * `enabled`) has no plugin or only a refused one, or a plugin the pool would run fails to load,
 * so a script can check an installation.
 */
export async function listPlugins(
  config: Config,
  out: (line: string) => void,
  options: ListPluginsOptions = { load: false, loadTimeoutMs: 0 },
): Promise<number> {
  const unusable = new Set<string>();
  const lines: Array<string | PendingLoad> = [];
  const loads = new Map<string, PendingLoad>();
  const say = (line: string) => lines.push(line);
  const discovery = discoverPlugins(pluginSearchPaths(config.workerpool.pluginPaths));
  const { enabled } = config.workerpool;
  say(`searched: ${discovery.paths.join(', ')}`);
  for (const { warning } of misplacedPluginPaths(config.workerpool.pluginPaths)) {
    say(`warning: ${warning}`);
  }
  for (const [type, plugin] of discovery.plugins) {
    say(
      `${type}  ${plugin.name}@${plugin.version}  ${plugin.dir}  api ${plugin.apiRange ?? '(none)'}`,
    );
    const refused = apiIncompatibility(plugin);
    if (refused) {
      say(`  refused: ${refused}`);
      if (isNamed(config, type)) unusable.add(type);
      continue;
    }
    if (enabled !== '*' && !enabled.includes(type)) {
      say('  disabled: not in [workerpool] enabled');
      continue;
    }
    for (const group of config.groupsFor(type)) {
      const configured = config.configuredTypes.includes(type);
      const decision = decideGroup(plugin, group, configured, fileURLToPath(CHILD_ENTRY));
      if (!decision.ok) {
        say(`  group ${group.name}: REFUSED: ${decision.reason}`);
        continue;
      }
      const who = decision.identity?.user ?? 'the pool user';
      say(`  group ${group.name}: ${group.workers} children as ${who}`);
      if (!options.load) continue;
      const key = `${type}\0${decision.identity?.uid ?? ''}:${decision.identity?.gid ?? ''}`;
      const pending = loads.get(key) ?? {
        key,
        plugin: {
          group,
          pluginDir: plugin.dir,
          acceptedApi: { range: plugin.apiRange!, host: apiVersion },
          identity: decision.identity,
          logLevel: config.workerpool.logLevel,
        },
      };
      loads.set(key, pending);
      lines.push(pending);
    }
  }
  for (const { plugin, by } of discovery.shadowed) {
    say(
      `shadowed: ${plugin.name}@${plugin.version} at ${plugin.dir} (type ${plugin.type} comes from ${by.dir})`,
    );
  }
  for (const { dir, reason } of discovery.broken) say(`broken: ${dir}: ${reason}`);
  for (const { path, reason } of discovery.untrusted) say(`refused: ${path}: ${reason}`);
  for (const type of config.configuredTypes) {
    if (discovery.plugins.has(type)) continue;
    say(`missing: config section [${type}] but no plugin provides ${type}`);
    unusable.add(type);
  }
  for (const type of enabled === '*' ? [] : enabled) {
    if (discovery.plugins.has(type) || unusable.has(type)) continue;
    say(`missing: [workerpool] enabled names ${type} but no plugin provides ${type}`);
    unusable.add(type);
  }
  const pending = [...loads.values()];
  const checked = await mapBounded(pending, LOAD_CONCURRENCY, (load) =>
    loadCheck(load.plugin, options.loadTimeoutMs),
  );
  const results = new Map<string, LoadCheck>(pending.map((load, i) => [load.key, checked[i]!]));
  let failed = false;
  for (const line of lines) {
    if (typeof line === 'string') {
      out(line);
      continue;
    }
    const result = results.get(line.key)!;
    if (result.ok) out('    load: ok');
    else {
      failed = true;
      out(`    load FAILED: ${result.code} ${result.message}`);
    }
  }
  return unusable.size > 0 || failed ? PLUGINS_MISSING_STATUS : ExitStatus.OK;
}

/** True when the config asks for `type` by name (not only through `enabled = *`). */
function isNamed(config: Config, type: string): boolean {
  const { enabled } = config.workerpool;
  return config.configuredTypes.includes(type) || (enabled !== '*' && enabled.includes(type));
}
