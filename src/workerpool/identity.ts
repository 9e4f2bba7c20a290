import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { GroupConfig } from '../common/config/types.js';
import { SETPRIV } from './child-command.js';
import type { ChildIdentity } from './ipc.js';

/** Users tried, in order, for a group without `user` when the pool runs as root. */
export const UNPRIVILEGED_FALLBACK_USERS = ['taskqueue', 'nobody'];

export type IdentityDecision =
  | { ok: true; identity: ChildIdentity | undefined; note?: string }
  | { ok: false; reason: string };

/**
 * Which Unix identity a group's children take. A requested `user` is honoured exactly or the
 * group is refused; a root pool never runs plugins as root unless `user = root` says so.
 */
export function decideIdentity(
  group: GroupConfig,
  euid = process.geteuid?.() ?? -1,
): IdentityDecision {
  const isRoot = euid === 0;
  if (isRoot && !existsSync(SETPRIV)) {
    return { ok: false, reason: `cannot switch users: ${SETPRIV} (util-linux) is missing` };
  }
  if (group.user === undefined) {
    if (!isRoot) return { ok: true, identity: undefined };
    for (const user of UNPRIVILEGED_FALLBACK_USERS) {
      const identity = lookupIdentity(user, group.group);
      if (identity.ok)
        return {
          ok: true,
          identity: identity.identity,
          note: `no user configured: runs as ${user}`,
        };
    }
    return { ok: false, reason: 'no user configured and neither user taskqueue nor nobody exists' };
  }
  if (!isRoot) {
    return {
      ok: false,
      reason: `user ${group.user} requested but the pool is not root and cannot switch`,
    };
  }
  const identity = lookupIdentity(group.user, group.group);
  return identity.ok ? { ok: true, identity: identity.identity } : identity;
}

function lookupIdentity(
  user: string,
  groupName: string | undefined,
): { ok: true; identity: ChildIdentity } | { ok: false; reason: string } {
  const passwd = getent('passwd', user);
  if (!passwd) return { ok: false, reason: `unknown user ${user}` };
  const [, , uid, gid, , home] = passwd.split(':');
  let groupId = Number(gid);
  if (groupName !== undefined) {
    const group = getent('group', groupName);
    if (!group) return { ok: false, reason: `unknown group ${groupName}` };
    groupId = Number(group.split(':')[2]);
  }
  return { ok: true, identity: { user, uid: Number(uid), gid: groupId, home: home || '/' } };
}

/** One NSS entry (so LDAP and sssd users work too), or undefined when there is none. */
function getent(database: 'passwd' | 'group', key: string): string | undefined {
  try {
    return execFileSync('getent', [database, key], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).split('\n')[0];
  } catch {
    return undefined;
  }
}
