import { describe, expect, it } from 'vitest';
import { HOST_API_HOOKS_SOURCE } from '../../../src/workerpool/discovery/host-api-hooks.js';

interface Context {
  parentURL: string | undefined;
  conditions: string[];
}
type Resolve = (
  specifier: string,
  context: Context,
  next: (specifier: string, context: Context) => Promise<{ url: string }>,
) => Promise<{ url: string }>;

/** The hooks module as the loader thread gets it, from the same data: URL. */
async function loadHooks(hostParentUrl: string) {
  const hooks = (await import(
    `data:text/javascript,${encodeURIComponent(HOST_API_HOOKS_SOURCE)}`
  )) as { initialize: (data: { hostParentUrl: string }) => void; resolve: Resolve };
  hooks.initialize({ hostParentUrl });
  return hooks.resolve;
}

const HOST = 'file:///usr/lib/taskqueue/dist/workerpool/discovery/host-api.js';
const PLUGIN = 'file:///srv/plugins/taskqueue-plugin-x/index.js';
const context: Context = { parentURL: PLUGIN, conditions: ['node', 'import'] };
const notFound = () => Object.assign(new Error('not found'), { code: 'ERR_MODULE_NOT_FOUND' });

/** A resolver that finds the package only from `findsFrom`, recording where it was asked from. */
function resolver(findsFrom: string | undefined, asked: Array<[string, string | undefined]>) {
  return async (specifier: string, ctx: Context) => {
    asked.push([specifier, ctx.parentURL]);
    if (specifier.startsWith('@taskqueue/') && ctx.parentURL !== findsFrom) throw notFound();
    return { url: `file:///resolved/${specifier}` };
  };
}

describe('the host-API resolve hooks', () => {
  it("resolve the plugin's own copy when it has one, asking once", async () => {
    const resolve = await loadHooks(HOST);
    const asked: Array<[string, string | undefined]> = [];
    await resolve('@taskqueue/plugin-api', context, resolver(PLUGIN, asked));
    expect(asked).toEqual([['@taskqueue/plugin-api', PLUGIN]]);
  });

  it("fall back to the host's copy, for the package and its subpaths, when the plugin has none", async () => {
    const resolve = await loadHooks(HOST);
    for (const specifier of ['@taskqueue/plugin-api', '@taskqueue/plugin-api/testing']) {
      const asked: Array<[string, string | undefined]> = [];
      const resolved = await resolve(specifier, context, resolver(HOST, asked));
      expect(resolved.url).toBe(`file:///resolved/${specifier}`);
      expect(asked).toEqual([
        [specifier, PLUGIN],
        [specifier, HOST],
      ]);
    }
  });

  it('leave other packages, a look-alike name and other errors alone', async () => {
    const resolve = await loadHooks(HOST);
    const asked: Array<[string, string | undefined]> = [];
    await expect(
      resolve('@taskqueue/plugin-api-extra', context, resolver(HOST, asked)),
    ).rejects.toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
    await resolve('amqplib', context, resolver(HOST, asked));
    expect(asked.map(([, from]) => from)).toEqual([PLUGIN, PLUGIN]);
    const notExported = async () => {
      throw Object.assign(new Error('no such subpath'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
    };
    await expect(resolve('@taskqueue/plugin-api/nope', context, notExported)).rejects.toMatchObject(
      { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' },
    );
  });
});
