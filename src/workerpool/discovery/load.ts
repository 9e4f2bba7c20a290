import { pathToFileURL } from 'node:url';
import { apiVersion, type BaseWorker } from '@taskqueue/plugin-api';
import { TqError } from '../../common/errors.js';
import type { AcceptedApi } from './api-check.js';
import { provideHostApi } from './host-api.js';
import type { PluginPackage } from './package-info.js';

/**
 * Checks the API range, imports the plugin and instantiates its worker. The worker is checked by
 * shape, not by `instanceof`: the plugin may bring its own copy of the API package; one that
 * does not gets the host's (host-api.ts).
 *
 * `accepted` is the pool's verdict: when the package still declares the range the pool accepted,
 * for this same host version, the check is not made again. semver then stays unloaded (about
 * 1 MiB in every child); a package changed on disk since the pool read it is checked in full.
 */
export async function loadWorker(
  plugin: PluginPackage,
  accepted?: AcceptedApi,
): Promise<BaseWorker> {
  const unchanged =
    accepted !== undefined && plugin.apiRange === accepted.range && apiVersion === accepted.host;
  if (!unchanged) {
    const { apiIncompatibility } = await import('./api-check.js');
    const incompatible = apiIncompatibility(plugin);
    if (incompatible) throw new TqError('TQ_ERR_PLUGIN_API', incompatible);
  }
  let module: { default?: unknown };
  try {
    provideHostApi(plugin.entry);
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
