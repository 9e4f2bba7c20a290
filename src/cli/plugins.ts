import type { Config } from '../common/config/types.js';
import { apiIncompatibility } from '../workerpool/discovery/api-check.js';
import { discoverPlugins, pluginSearchPaths } from '../workerpool/discovery/discovery.js';
import { misplacedPluginPaths } from '../workerpool/discovery/plugin-paths.js';
import { missingSettings } from '../workerpool/discovery/settings-check.js';
import { decideIdentity } from '../workerpool/identity.js';

/** `taskqueue plugins`: what the pool would run, and why it would not run the rest. */
export function listPlugins(config: Config, out: (line: string) => void): number {
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
    if (!discovery.plugins.has(type))
      out(`missing: config section [${type}] but no plugin provides ${type}`);
  }
  return 0;
}
