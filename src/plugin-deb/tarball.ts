import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TqError } from '../common/errors.js';

/**
 * Unpacks an npm tarball into `into/package` and returns that directory. As npm does, the first
 * path component of every member is dropped (`npm pack` writes `package/…`, other tools
 * other names). GNU tar refuses members that climb out with `..`; owners and modes of the
 * tarball are not kept (the build sets its own).
 */
export function unpackTarball(tarball: string, into: string): string {
  if (!existsSync(tarball)) {
    throw new TqError('TQ_ERR_PLUGIN_DEB_INPUT', `${tarball}: no such file`);
  }
  const dir = join(into, 'package');
  mkdirSync(dir);
  try {
    execFileSync(
      'tar',
      [
        '-xzf',
        tarball,
        '-C',
        dir,
        '--strip-components=1',
        '--no-same-owner',
        '--no-same-permissions',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (err) {
    const said = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    throw new TqError(
      'TQ_ERR_PLUGIN_DEB_INPUT',
      `${tarball}: not an npm tarball (a gzip'd tar, as npm pack writes): ${said.split('\n')[0] ?? ''}`,
      { cause: err },
    );
  }
  return dir;
}
