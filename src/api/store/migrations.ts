import { TqError } from '../../common/errors.js';

/**
 * Versioned schema migrations, shared by both stores: each store keeps the versions it applied in
 * `schema_migrations` and runs, in one transaction under its own lock, the entries of its
 * dialect's list (sql/sqlite.ts, sql/postgres.ts) past the highest. Re-running is a no-op.
 */

/** The bookkeeping table; the same text is valid SQLite and PostgreSQL. */
export const SCHEMA_MIGRATIONS_DDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  applied_at text NOT NULL
)`;

export interface Migration {
  version: number;
  sql: string;
}

/**
 * The migrations to run on a store at version `applied` (0: empty). A store at a version newer
 * than this program knows was upgraded by a newer taskqueue-api: writing to it could corrupt
 * what that version relies on, so it is refused, not guessed at.
 */
export function pendingMigrations(applied: number, known: readonly string[]): Migration[] {
  if (applied > known.length) {
    throw new TqError(
      'TQ_ERR_STORE_SCHEMA_NEWER',
      `the task store is at schema version ${applied}, this program knows up to ${known.length}: upgrade taskqueue-api`,
      { details: { applied, known: known.length } },
    );
  }
  return known.slice(applied).map((sql, i) => ({ version: applied + i + 1, sql }));
}
