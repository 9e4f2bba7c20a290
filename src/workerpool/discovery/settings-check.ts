import type { GroupConfig } from '../../common/config/types.js';
import type { PluginPackage, PluginSetting } from './package-info.js';

/** What a group lacks of the settings its plugin requires, and the sentence that says so. */
export interface MissingSettings {
  settings: PluginSetting[];
  /** Names the group, the settings, the plugin and where to write them. */
  reason: string;
}

/**
 * The required settings of `plugin` that `group` has no value for (an empty value counts as
 * none), or undefined when it has them all. `hasSection`: whether the file has a section for the
 * group (a type without one runs with [DEFAULT] alone).
 */
export function missingSettings(
  plugin: PluginPackage,
  group: GroupConfig,
  hasSection: boolean,
): MissingSettings | undefined {
  const settings = plugin.settings.filter(
    (s) => s.required && (group.settings[s.name] ?? '').trim() === '',
  );
  if (settings.length === 0) return undefined;
  const names = settings.map((s) => (s.description ? `${s.name} (${s.description})` : s.name));
  const noun = settings.length === 1 ? 'setting' : 'settings';
  const lines = settings.map((s) => `${s.name} = …`).join(', ');
  const where = !hasSection
    ? `add a section [${group.name}] with ${lines}`
    : group.instance === undefined
      ? `add ${lines} to [${group.name}]`
      : `add ${lines} to [${group.name}] or [${group.type}]`;
  return {
    settings,
    reason: `group ${group.name} lacks the ${noun} ${names.join(', ')} that ${plugin.name} requires: ${where}`,
  };
}
