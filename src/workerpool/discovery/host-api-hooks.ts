/**
 * Module resolve hooks, registered by host-api.ts with `module.register` (so they run on Node's
 * loader thread): `@taskqueue/plugin-api` and its subpaths resolve as usual, and only when that
 * finds nothing, from the host's own code, to the host's copy. A plugin that bundles its own copy
 * keeps it; one that relies on the host gets the host's.
 *
 * JavaScript text for a `data:` URL, not a module of its own: the hooks must load wherever the
 * host's code runs from, its compiled dist or its TypeScript sources under the tests' loader,
 * and a loader thread cannot import a .ts file.
 */
export const HOST_API_HOOKS_SOURCE = `
const API_PACKAGE = '@taskqueue/plugin-api';
let hostParentUrl;

export function initialize(data) {
  hostParentUrl = data.hostParentUrl;
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier !== API_PACKAGE && !specifier.startsWith(API_PACKAGE + '/')) {
    return nextResolve(specifier, context);
  }
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !hostParentUrl) throw err;
    return nextResolve(specifier, { ...context, parentURL: hostParentUrl });
  }
}
`;

/** What host-api.ts passes to the hooks' `initialize`. */
export interface HostApiData {
  /** A URL inside the host, to resolve the host's copy from. */
  hostParentUrl: string;
}
