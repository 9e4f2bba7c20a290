import { execFileSync } from 'node:child_process';

/** A Unix user as `id` reports it. */
export interface UnixUser {
  name: string;
  uid: number;
  gid: number;
  /** Every group id of the user, primary included, sorted. */
  groups: number[];
}

const created: { users: string[]; groups: string[] } = { users: [], groups: [] };

const exists = (database: 'passwd' | 'group', key: string) => {
  try {
    execFileSync('getent', [database, key], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

export const isRoot = () => process.geteuid?.() === 0;

/** Reads a user's ids with `id`, as NSS sees them. */
export function lookupUser(name: string): UnixUser {
  const id = (flag: string) => execFileSync('id', [flag, name], { encoding: 'utf8' }).trim();
  return {
    name,
    uid: Number(id('-u')),
    gid: Number(id('-g')),
    groups: id('-G')
      .split(/\s+/)
      .map(Number)
      .sort((a, b) => a - b),
  };
}

/**
 * Creates a system group unless it exists (root only); `removeCreated()` deletes what this
 * process created and nothing else.
 */
export function ensureGroup(name: string): void {
  if (exists('group', name)) return;
  execFileSync('groupadd', ['--system', name]);
  created.groups.push(name);
}

/** Creates a system user with a home and `supplementary` groups unless it exists (root only). */
export function ensureUser(name: string, supplementary: string[] = []): UnixUser {
  if (!exists('passwd', name)) {
    for (const group of supplementary) ensureGroup(group);
    const groups = supplementary.length > 0 ? ['--groups', supplementary.join(',')] : [];
    execFileSync('useradd', [
      '--system',
      '--user-group',
      '--create-home',
      '--home-dir',
      `/var/tmp/${name}`,
      '--shell',
      '/usr/sbin/nologin',
      ...groups,
      name,
    ]);
    created.users.push(name);
  }
  return lookupUser(name);
}

export function removeCreated(): void {
  for (const user of created.users.splice(0)) {
    try {
      execFileSync('userdel', ['--remove', user], { stdio: 'ignore' });
    } catch {
      // userdel exits non-zero for a missing mail spool even when the user is gone.
    }
  }
  for (const group of created.groups.splice(0)) {
    try {
      execFileSync('groupdel', [group], { stdio: 'ignore' });
    } catch {
      // Still a user's primary group, or gone already.
    }
  }
}
