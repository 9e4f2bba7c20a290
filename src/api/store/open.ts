import { TqError } from '../../common/errors.js';
import type { TaskStore } from './types.js';

/**
 * Opens the store `[api] store` names: a postgres:// URL, else a SQLite file. The back ends are
 * issue 28's store part (branch 28a-store); until it is merged this build has none, and the
 * daemon refuses to start rather than keep tasks in memory and forget them on restart.
 *
 * @throws TqError TQ_ERR_API_STORE
 */
export async function openStore(location: string): Promise<TaskStore> {
  const kind = /^postgres(ql)?:/.test(location) ? 'PostgreSQL' : 'SQLite';
  throw new TqError(
    'TQ_ERR_API_STORE',
    `the ${kind} task store is not in this build (issue 28's store part is not merged yet)`,
    { details: { kind } },
  );
}
