import { createRequire, register } from 'node:module';
import { HOST_API_HOOKS_SOURCE, type HostApiData } from './host-api-hooks.js';

const API_PACKAGE = '@taskqueue/plugin-api';

let registered = false;

/**
 * Lets a plugin that does not bring `@taskqueue/plugin-api` import the host's copy: when the
 * plugin's entry cannot resolve the package itself, registers resolve hooks that fall back to
 * the host's. Only then: Node 20 runs registered hooks on a loader thread of their own, which
 * every child would otherwise pay for (bench/FINDINGS.md, _The host-provided API_). True when
 * the hooks are (now or already) in place.
 */
export function provideHostApi(entry: string): boolean {
  if (registered) return true;
  if (canResolveOwn(entry)) return false;
  register<HostApiData>(`data:text/javascript,${encodeURIComponent(HOST_API_HOOKS_SOURCE)}`, {
    data: { hostParentUrl: import.meta.url },
  });
  registered = true;
  return true;
}

/** Whether the package resolves from the plugin's entry, by Node's node_modules lookup. */
function canResolveOwn(entry: string): boolean {
  try {
    createRequire(entry).resolve(API_PACKAGE);
    return true;
  } catch {
    // Not found, or found but unusable from here: the hooks still try the plugin's own first.
    return false;
  }
}
