import { apiVersion } from '@taskqueue/plugin-api';
import semver from 'semver';
import type { PluginPackage } from './package-info.js';

/** A plugin's API range the pool accepted, and the host API version it accepted it for. */
export interface AcceptedApi {
  range: string;
  host: string;
}

/** Why this host would refuse the package's declared API range, or undefined when it fits. */
export function apiIncompatibility(plugin: PluginPackage): string | undefined {
  if (plugin.apiRange === undefined) {
    return `${plugin.name} declares no API range ("taskqueue": { "api": "^1.0.0" } in its package.json)`;
  }
  if (semver.validRange(plugin.apiRange) === null) {
    return `${plugin.name} declares an invalid API range "${plugin.apiRange}"`;
  }
  if (!semver.satisfies(apiVersion, plugin.apiRange)) {
    return `${plugin.name}@${plugin.version} needs plugin API ${plugin.apiRange}; this host provides ${apiVersion}`;
  }
  return undefined;
}
