import type { CheckReport, ResolveOptions } from '../common/config/resolve.js';
import type { Config } from '../common/config/types.js';
import { ExitStatus } from '../common/exit.js';
import { apiIncompatibility } from '../workerpool/discovery/api-check.js';
import { discoverPlugins, pluginSearchPaths } from '../workerpool/discovery/discovery.js';
import { misplacedPluginPaths } from '../workerpool/discovery/plugin-paths.js';
import { missingSettings } from '../workerpool/discovery/settings-check.js';
import { commandConfig } from './config-source.js';

export interface CheckConfigOptions {
  /** The file was named with -c (else it is the default file, which may be absent). */
  explicit: boolean;
  /**
   * The file is meant for another host: users, groups and plugins of this host say nothing
   * certain about it, so what they lack is a warning rather than an error.
   */
  forOtherHost: boolean;
}

/**
 * `taskqueue check-config`: every problem of the file at once (syntax, values, users and groups
 * this host lacks, settings the installed plugins require of the groups the file configures),
 * warnings on stderr, exit 0 or 78.
 *
 * @throws TqError what loadConfig throws, every problem in one message.
 */
export function checkConfig(
  file: string,
  options: CheckConfigOptions,
  out: (line: string) => void,
  warn: (line: string) => void,
): number {
  const resolveOptions: ResolveOptions = {
    accounts: options.forOtherHost ? 'warning' : 'error',
    check: (config, report) => checkPlugins(config, report, options.forOtherHost),
    // Printed before the errors, if any, rather than lost behind them.
    onWarnings: (warnings) => {
      for (const warning of warnings) warn(`warning: ${warning}`);
    },
  };
  const loaded = commandConfig(file, options.explicit, process.env, {
    checking: true,
    resolve: resolveOptions,
  });
  if (loaded.notice) warn(`taskqueue: ${loaded.notice}`);
  const { config } = loaded;
  out(
    `${loaded.file ?? 'built-in defaults'}: ok (types with a section: ${config.configuredTypes.join(', ') || 'none'})`,
  );
  return ExitStatus.OK;
}

/** What the plugins installed here (on the config's plugin paths) need from the file. */
function checkPlugins(config: Config, report: CheckReport, forOtherHost: boolean): void {
  const { pluginPaths, enabled } = config.workerpool;
  for (const { warning } of misplacedPluginPaths(pluginPaths)) report.warning(warning);
  const discovery = discoverPlugins(pluginSearchPaths(pluginPaths));
  for (const [type, plugin] of discovery.plugins) {
    if (enabled !== '*' && !enabled.includes(type)) continue;
    if (apiIncompatibility(plugin) !== undefined) continue;
    for (const group of config.groupsFor(type)) {
      const configured = config.configuredTypes.includes(type);
      const missing = missingSettings(plugin, group, configured);
      if (missing === undefined) continue;
      if (forOtherHost) {
        report.warning(`${missing.reason} (if ${plugin.name} is installed there as here)`);
        continue;
      }
      // A plugin installed here that the file does not mention (the shipped config and the
      // shell plugin of taskqueue-extra): the pool refuses it, but nothing the file asks for
      // is lost, so the file is not wrong.
      if (!configured) {
        report.warning(`${missing.reason}, or leave ${type} out of [workerpool] enabled`);
        continue;
      }
      for (const setting of missing.settings) {
        const about = setting.description ? ` (${setting.description})` : '';
        report.problem({
          section: group.name,
          key: setting.name,
          expected: `a value: ${plugin.name} requires it${about}; without it the pool refuses group ${group.name}`,
        });
      }
    }
  }
}
