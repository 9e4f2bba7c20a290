import { fileURLToPath } from 'node:url';
import { apiVersion } from '@taskqueue/plugin-api';
import type { Config, GroupConfig } from '../common/config/types.js';
import { TqError } from '../common/errors.js';
import { apiIncompatibility } from '../workerpool/discovery/api-check.js';
import { discoverPlugins, pluginSearchPaths } from '../workerpool/discovery/discovery.js';
import type { PluginPackage } from '../workerpool/discovery/package-info.js';
import { decideGroup } from '../workerpool/group-decision.js';
import { ONE_SHOT_ENTRY } from '../workerpool/one-shot-child.js';
import type { OneShotPlugin } from '../workerpool/one-shot-ipc.js';
import { checkWorkerType } from './worker-type-check.js';

/** A group of TYPE that the pool would run here, ready for a one-shot child. */
export interface RunnableGroup {
  plugin: PluginPackage;
  group: GroupConfig;
  oneShot: OneShotPlugin;
  /** What the pool would also say about it (a fallback user, a type left out of `enabled`). */
  warnings: string[];
}

/**
 * Finds the plugin of `type` and the group `groupName` (default: the type's own group) as the
 * pool does (discovery.ts, api-check.ts, group-decision.ts), and refuses what the pool would
 * refuse, with the pool's reason. A type left out of `[workerpool] enabled` is only a warning:
 * trying a plugin before enabling it is what this is for.
 *
 * @throws TqError `TQ_ERR_CLI_USAGE` (a TYPE outside the grammar, no such group),
 *   `TQ_ERR_PLUGIN_MISSING`, `TQ_ERR_PLUGIN_API`, `TQ_ERR_GROUP_REFUSED`,
 *   `TQ_ERR_GROUP_UNREADABLE`.
 */
export function runnableGroup(
  config: Config,
  type: string,
  groupName: string | undefined,
): RunnableGroup {
  checkWorkerType(type);
  const { workerpool } = config;
  const discovery = discoverPlugins(pluginSearchPaths(workerpool.pluginPaths));
  const plugin = discovery.plugins.get(type);
  if (!plugin) throw missingPlugin(type, discovery);
  const refused = apiIncompatibility(plugin);
  if (refused) throw new TqError('TQ_ERR_PLUGIN_API', `plugin refused: ${refused}`);
  const warnings: string[] = [];
  if (workerpool.enabled !== '*' && !workerpool.enabled.includes(type)) {
    warnings.push(`${type} is not in [workerpool] enabled: the pool does not run it`);
  }
  const group = pickGroup(config.groupsFor(type), type, groupName);
  const decision = decideGroup(
    plugin,
    group,
    config.configuredTypes.includes(type),
    fileURLToPath(ONE_SHOT_ENTRY),
  );
  if (!decision.ok) {
    throw new TqError(decision.code, `group ${group.name} refused: ${decision.reason}`);
  }
  if (decision.note) warnings.push(`group ${group.name}: ${decision.note}`);
  return {
    plugin,
    group,
    warnings,
    oneShot: {
      group,
      pluginDir: plugin.dir,
      // Defined: apiIncompatibility refuses a plugin that declares no range.
      acceptedApi: { range: plugin.apiRange!, host: apiVersion },
      identity: decision.identity,
      logLevel: process.env.TASKQUEUE_LOG_LEVEL || workerpool.logLevel,
    },
  };
}

function pickGroup(groups: GroupConfig[], type: string, groupName: string | undefined) {
  const names = groups.map((g) => g.name).join(', ');
  const wanted = groupName ?? type;
  const group = groups.find((g) => g.name === wanted);
  if (group) return group;
  const why =
    groupName === undefined
      ? `${type} runs as the groups ${names}: name one with --group`
      : `${type} has no group ${groupName}; its groups: ${names}`;
  throw new TqError('TQ_ERR_CLI_USAGE', why);
}

/** No plugin of `type`: says where it looked, and what it passed over that might have been it. */
function missingPlugin(type: string, discovery: ReturnType<typeof discoverPlugins>): TqError {
  const name = `taskqueue-plugin-${type}`;
  const passedOver = [
    ...discovery.untrusted
      .filter(({ path }) => path.endsWith(name))
      .map(({ reason }) => `refused: ${reason}`),
    ...discovery.broken
      .filter(({ dir }) => dir.endsWith(name))
      .map(({ dir, reason }) => `${dir}: ${reason}`),
  ];
  const hint = passedOver.length > 0 ? ` (${passedOver.join('; ')})` : '';
  return new TqError(
    'TQ_ERR_PLUGIN_MISSING',
    `no plugin provides ${type}: no ${name} on ${discovery.paths.join(', ')}${hint}`,
  );
}
