import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresTaskStore } from '../../src/api/store/postgres-store.js';
import type { StoreCaps } from '../../src/api/store/precedence.js';
import { SqliteTaskStore } from '../../src/api/store/sqlite-store.js';
import type { TaskStore } from '../../src/api/store/types.js';
import { MemoryTaskStore } from './memory-store.js';
import { openPostgres, type PostgresServer } from './postgres-node.js';

/**
 * The three TaskStores as a test opens them: each `open` gives an empty store of its own (a new
 * SQLite file in a temp dir, a new PostgreSQL schema), and `cleanup` removes them all. The
 * PostgreSQL server is the one test/support/postgres-node.ts finds or starts.
 */
export interface StoreBackend {
  name: 'memory' | 'sqlite' | 'postgres';
  /** A new, empty, migrated store; `shareWith` opens a second store on the same database. */
  open(options?: {
    caps?: StoreCaps;
    shareWith?: string;
    migrate?: boolean;
    /** PostgreSQL: told when an idle connection of the store's pool fails. */
    onIdleError?: (err: Error) => void;
  }): Promise<{
    store: TaskStore;
    /** What `shareWith` takes to open another store on the same database. */
    where: string;
  }>;
  /** Runs SQL on the database of `where` (SQL back ends only). */
  sql?(where: string, text: string): Promise<unknown[]>;
  cleanup(): Promise<void>;
}

export function memoryBackend(): StoreBackend {
  return {
    name: 'memory',
    async open(options = {}) {
      return { store: new MemoryTaskStore({ caps: options.caps }), where: 'memory' };
    },
    async cleanup() {},
  };
}

export function sqliteBackend(): StoreBackend {
  const dir = mkdtempSync(join(tmpdir(), 'tq-store-'));
  const opened: TaskStore[] = [];
  let n = 0;
  return {
    name: 'sqlite',
    async open(options = {}) {
      const path = options.shareWith ?? join(dir, `tasks-${++n}.db`);
      const store = new SqliteTaskStore({ path, caps: options.caps });
      opened.push(store);
      if (options.migrate !== false) await store.migrate();
      return { store, where: path };
    },
    async sql(where, text) {
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(where);
      try {
        const statement = db.prepare(text);
        return statement.reader ? statement.all() : [statement.run()];
      } finally {
        db.close();
      }
    },
    async cleanup() {
      for (const store of opened) await store.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresBackend(): StoreBackend {
  let server: Promise<PostgresServer> | undefined;
  let admin: pg.Pool | undefined;
  /** The server and a pool on it, found or started on first use. */
  const ready = async () => {
    server ??= openPostgres();
    const { url } = await server;
    admin ??= new pg.Pool({ connectionString: url, max: 2 });
    return { url, admin };
  };
  const schemas: string[] = [];
  const opened: TaskStore[] = [];
  const prefix = `tq_store_${process.pid}_${Date.now().toString(36)}`;
  return {
    name: 'postgres',
    async open(options = {}) {
      const { url, admin } = await ready();
      let schema = options.shareWith;
      if (schema === undefined) {
        schema = `${prefix}_${schemas.length + 1}`;
        await admin.query(`CREATE SCHEMA "${schema}"`);
        schemas.push(schema);
      }
      const store = new PostgresTaskStore({
        connectionString: url,
        schema,
        caps: options.caps,
        ...(options.onIdleError ? { onIdleError: options.onIdleError } : {}),
      });
      opened.push(store);
      if (options.migrate !== false) await store.migrate();
      return { store, where: schema };
    },
    async sql(where, text) {
      const c = await (await ready()).admin.connect();
      try {
        await c.query(`SET search_path = "${where}"`);
        return (await c.query(text)).rows;
      } finally {
        c.release();
      }
    },
    async cleanup() {
      for (const store of opened) await store.close().catch(() => {});
      if (admin) {
        for (const schema of schemas) await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
        await admin.end();
      }
      if (server) await (await server).stop();
    },
  };
}
