/**
 * Verdaccio for the registry suite, installed on demand into a cache directory rather than as a
 * devDependency: it brings ~330 packages that every `npm ci` would otherwise fetch for one suite.
 * Pinned exactly: 6.10 needs Node 22, and this project runs on Node 20.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { npmEnv, runNpm } from './npm.js';

export const VERDACCIO_VERSION = '6.8.0';

/**
 * Where the install is kept between runs: /var/cache/taskqueue-test for root (as the system
 * test's rootfs), else the user's cache directory. TQ_TEST_CACHE overrides both.
 */
export function testCacheDir(): string {
  if (process.env.TQ_TEST_CACHE) return process.env.TQ_TEST_CACHE;
  if (process.geteuid?.() === 0) return '/var/cache/taskqueue-test';
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'taskqueue-test');
}

/** The verdaccio entry script, installing verdaccio first when the cache lacks it. */
export async function ensureVerdaccio(log: (line: string) => void): Promise<string> {
  const prefix = join(testCacheDir(), `verdaccio-${VERDACCIO_VERSION}`);
  const bin = join(prefix, 'node_modules/verdaccio/bin/verdaccio');
  if (installedVersion(prefix) === VERDACCIO_VERSION && existsSync(bin)) return bin;

  log(`installing verdaccio ${VERDACCIO_VERSION} into ${prefix}`);
  // Into a fresh directory renamed at the end: an install cut short is never taken for a whole one.
  const partial = `${prefix}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  // The user's own npm configuration and registry: this is an ordinary install from npmjs.
  try {
    await runNpm(
      [
        'install',
        '--prefix',
        partial,
        '--omit=dev',
        '--no-audit',
        '--no-fund',
        '--no-save',
        `verdaccio@${VERDACCIO_VERSION}`,
      ],
      { cwd: partial, env: npmEnv(), timeoutMs: 600_000 },
    );
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw err;
  }
  rmSync(prefix, { recursive: true, force: true });
  renameSync(partial, prefix);
  return bin;
}

function installedVersion(prefix: string): string | undefined {
  try {
    const manifest = JSON.parse(
      readFileSync(join(prefix, 'node_modules/verdaccio/package.json'), 'utf8'),
    ) as { version?: string };
    return manifest.version;
  } catch {
    return undefined;
  }
}
