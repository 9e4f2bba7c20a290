import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '@taskqueue/dev/rabbitmq-node';
import pg from 'pg';

/**
 * The PostgreSQL a store test uses, in this order: TQ_TEST_POSTGRES_URL; the server on
 * 127.0.0.1:5432 (database `test`, trust auth, as on the developers' machines); else a private
 * server of this test file's own, from Debian's `postgresql` package (initdb in a temp dir, trust
 * auth on 127.0.0.1 and a free port, fsync off), stopped and removed by `stop()`. CI has no
 * shared server: .ci/run installs the package, and this starts one.
 */
export interface PostgresServer {
  url: string;
  stop(): Promise<void>;
}

const SHARED = 'postgres://postgres@127.0.0.1:5432/test';
const INSTALL_HINT =
  'no PostgreSQL to test against: apt-get install postgresql, or set TQ_TEST_POSTGRES_URL';

export async function openPostgres(): Promise<PostgresServer> {
  const given = process.env.TQ_TEST_POSTGRES_URL;
  if (given !== undefined) return { url: given, stop: async () => {} };
  if (await answers(SHARED)) return { url: SHARED, stop: async () => {} };
  return startPrivate();
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) throw new Error(INSTALL_HINT);
  return join(root, versions[0], 'bin');
}

export async function startPrivate(): Promise<PostgresServer> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'tq-postgres-'));
  // initdb and postgres refuse to run as root: as root, they run as Debian's `postgres` user.
  const as: { uid?: number; gid?: number } = {};
  if (process.getuid?.() === 0) {
    as.uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    as.gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, as.uid, as.gid);
  }
  const data = join(dir, 'data');
  execFileSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
    { stdio: 'pipe', ...as },
  );
  const port = (await freePorts(1))[0]!;
  const server: ChildProcess = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
    ],
    { stdio: 'ignore', ...as },
  );
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 60_000;
  while (!(await answers(admin))) {
    if (server.exitCode !== null || Date.now() > deadline) {
      server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`the private PostgreSQL in ${dir} did not start`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query('CREATE DATABASE test');
  await client.end();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/test`,
    async stop() {
      // SIGINT: PostgreSQL's fast shutdown (disconnects clients, then stops).
      server.kill('SIGINT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
