/**
 * Module resolve hooks (registered by host-api.ts with `module.register`, so they run on Node's
 * loader thread): `@taskqueue/plugin-api` and its subpaths resolve as usual, and only when that
 * finds nothing, from the host's own code, to the host's copy. A plugin that bundles its own copy
 * keeps it; one that relies on the host gets the host's.
 */

const API_PACKAGE = '@taskqueue/plugin-api';

/** What host-api.ts passes: a URL inside the host, to resolve the host's copy from. */
export interface HostApiData {
  hostParentUrl: string;
}

interface ResolveContext {
  conditions: string[];
  importAttributes: Record<string, string>;
  parentURL: string | undefined;
}

interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}

type NextResolve = (specifier: string, context?: Partial<ResolveContext>) => Promise<ResolveResult>;

let hostParentUrl: string | undefined;

export function initialize(data: HostApiData): void {
  hostParentUrl = data.hostParentUrl;
}

export async function resolve(
  specifier: string,
  context: ResolveContext,
  nextResolve: NextResolve,
): Promise<ResolveResult> {
  if (specifier !== API_PACKAGE && !specifier.startsWith(`${API_PACKAGE}/`)) {
    return nextResolve(specifier, context);
  }
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND' || !hostParentUrl) throw err;
    return nextResolve(specifier, { ...context, parentURL: hostParentUrl });
  }
}
