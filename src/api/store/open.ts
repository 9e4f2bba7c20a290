import { TqError } from '../../common/errors.js';
import { openStore as openBackEnd, storeKind } from './open-store.js';
import type { StoreCaps } from './precedence.js';
import type { TaskStore } from './types.js';

/**
 * Opens the store `[api] store` names (a postgres:// URL, else a SQLite file) and brings its
 * schema up to date before the daemon serves anything.
 *
 * @throws TqError TQ_ERR_API_STORE when it cannot be opened or migrated (a newer schema keeps
 * its own code, TQ_ERR_STORE_SCHEMA_NEWER)
 */
export async function openStore(location: string, caps: StoreCaps = {}): Promise<TaskStore> {
  const kind = storeKind(location) === 'postgres' ? 'PostgreSQL' : 'SQLite';
  let store: TaskStore | undefined;
  try {
    store = openBackEnd(location, caps);
    await store.migrate();
    return store;
  } catch (err) {
    await store?.close().catch(() => {});
    if ((err as { code?: string }).code === 'TQ_ERR_STORE_SCHEMA_NEWER') throw err;
    throw new TqError(
      'TQ_ERR_API_STORE',
      `the ${kind} task store cannot be opened: ${(err as Error).message}`,
      {
        cause: err,
        details: { kind },
      },
    );
  }
}
