import { pathToFileURL } from 'node:url';
import { apiVersion, type BaseWorker } from '@taskqueue/plugin-api';
import semver from 'semver';
import { TqError } from '../../common/errors.js';
import type { PluginPackage } from './package-info.js';

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

/**
 * Checks the API range, imports the plugin and instantiates its worker. The worker is checked by
 * shape, not by `instanceof`: the plugin may bring its own copy of the API package.
 */
export async function loadWorker(plugin: PluginPackage): Promise<BaseWorker> {
  const incompatible = apiIncompatibility(plugin);
  if (incompatible) throw new TqError('TQ_ERR_PLUGIN_API', incompatible);
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(plugin.entry).href)) as { default?: unknown };
  } catch (err) {
    throw new TqError(
      'TQ_ERR_PLUGIN_LOAD',
      `${plugin.name}: cannot import ${plugin.entry}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const WorkerClass = module.default;
  const prototype = (WorkerClass as { prototype?: { handleTask?: unknown } } | undefined)
    ?.prototype;
  if (typeof WorkerClass !== 'function' || typeof prototype?.handleTask !== 'function') {
    throw new TqError(
      'TQ_ERR_PLUGIN_SHAPE',
      `${plugin.name}: the default export must be a class with a handleTask(workitem, ctx) method`,
    );
  }
  const worker = new (WorkerClass as new () => BaseWorker)();
  return worker;
}
