import { realpathSync } from 'node:fs';
import { firstBlockingComponent, modeText } from '../path-walk.js';

/**
 * Whether a path may provide code the pool runs. Plugins run as whatever `user` the config
 * gives them, root included, so a file someone else can write is a way to become root. As sudo,
 * sshd and cron do, a path is trusted only when it and every directory above it (symlinks
 * resolved) is owned by root (or by the pool's own user, when the pool is not root) and is
 * neither group- nor world-writable. A sticky /tmp is world-writable: it does not count as safe.
 */
export interface TrustPolicy {
  /** The owners a trusted path may have. */
  readonly owners: ReadonlySet<number>;
}

/** Root alone when the pool runs as root; else root or the pool's own user. */
export function trustPolicyFor(euid: number | undefined = process.geteuid?.()): TrustPolicy {
  const owners = new Set([0]);
  if (euid !== undefined) owners.add(euid);
  return { owners };
}

const GROUP_OR_WORLD_WRITABLE = 0o022;

/**
 * Why `path` is not trusted under `policy`, naming the first offending path from the top; or
 * undefined when it is. A path that cannot be resolved or stat'ed is not trusted either.
 */
export function untrustedReason(path: string, policy: TrustPolicy): string | undefined {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (err) {
    return `${path}: cannot resolve: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
  return firstBlockingComponent(real, (at, stat) => {
    if (!policy.owners.has(stat.uid)) {
      return `${at} is owned by uid ${stat.uid}, not ${ownersText(policy)}`;
    }
    if ((stat.mode & GROUP_OR_WORLD_WRITABLE) !== 0) {
      return `${at} is group- or world-writable (mode ${modeText(stat.mode)})`;
    }
    return undefined;
  });
}

function ownersText(policy: TrustPolicy): string {
  return [...policy.owners].map((uid) => (uid === 0 ? 'root' : `uid ${uid}`)).join(' or ');
}
