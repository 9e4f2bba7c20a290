import { PostgresTaskStore } from './postgres-store.js';
import type { StoreCaps } from './precedence.js';
import { DEFAULT_SQLITE_PATH, SqliteTaskStore } from './sqlite-store.js';
import type { TaskStore } from './types.js';

/**
 * The store an `[api] store` value names: a `postgres://` or `postgresql://` URL is a shared
 * PostgreSQL database; anything else is the path of a SQLite file (default
 * /var/lib/taskqueue/tasks.db). The caller migrates it (`await store.migrate()`) before use.
 */
export function storeKind(value: string | undefined): 'postgres' | 'sqlite' {
  return value !== undefined && /^postgres(ql)?:\/\//i.test(value) ? 'postgres' : 'sqlite';
}

export function openStore(value: string | undefined, caps: StoreCaps = {}): TaskStore {
  return storeKind(value) === 'postgres'
    ? new PostgresTaskStore({ connectionString: value!, caps })
    : new SqliteTaskStore({ path: value ?? DEFAULT_SQLITE_PATH, caps });
}
