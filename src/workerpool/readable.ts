import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { firstBlockingComponent, modeText } from './path-walk.js';

/** The ids the kernel checks a child's file access with: its uid and every group it has. */
export interface Reader {
  user: string;
  uid: number;
  gids: readonly number[];
}

/**
 * The group's user, as setpriv makes it: `--regid` and `--init-groups` (the user's groups from
 * NSS, as `id -G` lists them). Asked once per group at start or reload, never per task.
 */
export function readerFor(identity: { user: string; uid: number; gid: number }): Reader {
  let groups: number[] = [];
  try {
    groups = execFileSync('id', ['-G', identity.user], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .trim()
      .split(/\s+/)
      .map(Number)
      .filter((n) => Number.isInteger(n));
  } catch {
    // Unknown to `id`: the primary group alone; the check may then refuse what a group grants.
  }
  return { user: identity.user, uid: identity.uid, gids: [identity.gid, ...groups] };
}

/** The rwx bits of `mode` that apply to `reader`: owner's, else group's, else others'. */
function bitsFor(stat: { uid: number; gid: number; mode: number }, reader: Reader): number {
  if (stat.uid === reader.uid) return (stat.mode >> 6) & 7;
  if (reader.gids.includes(stat.gid)) return (stat.mode >> 3) & 7;
  return stat.mode & 7;
}

const R = 4;
const X = 1;

/**
 * Why `reader` cannot open `path` (`file`: read it; `dir`: list and enter it), naming the first
 * path from `/` that blocks it; undefined when it can. Mode bits only, as the kernel checks them
 * without ACLs: a path an ACL opens is refused, none an ACL closes is let through — the child's
 * own error says so then. Root (uid 0) reads everything. Cheap: one stat per path component.
 */
export function unreadableReason(
  path: string,
  kind: 'file' | 'dir',
  reader: Reader,
): string | undefined {
  if (reader.uid === 0) return undefined;
  const target = resolve(path);
  return firstBlockingComponent(target, (at, stat) => {
    const bits = bitsFor(stat, reader);
    const last = at === target;
    const need = !last ? X : kind === 'dir' ? R | X : R;
    if ((bits & need) === need) return undefined;
    const what = need === X ? 'enter' : kind === 'dir' ? 'list' : 'read';
    return `${at} (mode ${modeText(stat.mode)}, uid ${stat.uid}, gid ${stat.gid}) does not let ${reader.user} ${what} it`;
  });
}
