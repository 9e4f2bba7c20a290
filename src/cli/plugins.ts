import type { Config } from '../common/config/types.js';
import { apiIncompatibility } from '../workerpool/discovery/api-check.js';
import { discoverPlugins, pluginSearchPaths } from '../workerpool/discovery/discovery.js';
import { misplacedPluginPaths } from '../workerpool/discovery/plugin-paths.js';
import { missingSettings } from '../workerpool/discovery/settings-check.js';
import { decideIdentity } from '../workerpool/identity.js';

/** Exit status of `taskqueue plugins` when a type the config asks for has no usable plugin. */
export const PLUGINS_MISSING_STATUS = 1;

/**
 * `taskqueue plugins`: what the pool would run, and why it would not run the rest. Returns 0, or
 * PLUGINS_MISSING_STATUS when a type the config names (a section, or an entry of `enabled`) has
 * no plugin or only a refused one, so a script can check an installation.
 */
export function listPlugins(config: Config, out: (line: string) => void): number {
  const unusable = new Set<string>();
  const discovery = discoverPlugins(pluginSearchPaths(config.workerpool.pluginPaths));
  const { enabled } = config.workerpool;
  out(`searched: ${discovery.paths.join(', ')}`);
  for (const { warning } of misplacedPluginPaths(config.workerpool.pluginPaths)) {
    out(`warning: ${warning}`);
  }
  for (const [type, plugin] of discovery.plugins) {
    out(
      `${type}  ${plugin.name}@${plugin.version}  ${plugin.dir}  api ${plugin.apiRange ?? '(none)'}`,
    );
    const refused = apiIncompatibility(plugin);
    if (refused) {
      out(`  refused: ${refused}`);
      if (isNamed(config, type)) unusable.add(type);
      continue;
    }
    if (enabled !== '*' && !enabled.includes(type)) {
      out('  disabled: not in [workerpool] enabled');
      continue;
    }
    for (const group of config.groupsFor(type)) {
      const missing = missingSettings(plugin, group, config.configuredTypes.includes(type));
      if (missing) {
        out(`  group ${group.name}: REFUSED: ${missing.reason}`);
        continue;
      }
      const identity = decideIdentity(group);
      const who = identity.ok
        ? (identity.identity?.user ?? 'the pool user')
        : `REFUSED: ${identity.reason}`;
      out(`  group ${group.name}: ${group.workers} children as ${who}`);
    }
  }
  for (const { plugin, by } of discovery.shadowed) {
    out(
      `shadowed: ${plugin.name}@${plugin.version} at ${plugin.dir} (type ${plugin.type} comes from ${by.dir})`,
    );
  }
  for (const { dir, reason } of discovery.broken) out(`broken: ${dir}: ${reason}`);
  for (const { path, reason } of discovery.untrusted) out(`refused: ${path}: ${reason}`);
  for (const type of config.configuredTypes) {
    if (discovery.plugins.has(type)) continue;
    out(`missing: config section [${type}] but no plugin provides ${type}`);
    unusable.add(type);
  }
  for (const type of enabled === '*' ? [] : enabled) {
    if (discovery.plugins.has(type) || unusable.has(type)) continue;
    out(`missing: [workerpool] enabled names ${type} but no plugin provides ${type}`);
    unusable.add(type);
  }
  return unusable.size > 0 ? PLUGINS_MISSING_STATUS : 0;
}

/** True when the config asks for `type` by name (not only through `enabled = *`). */
function isNamed(config: Config, type: string): boolean {
  const { enabled } = config.workerpool;
  return config.configuredTypes.includes(type) || (enabled !== '*' && enabled.includes(type));
}
