import type { ChildIdentity } from '../ipc.js';

/**
 * Becomes `identity` for good: supplementary groups, gid, then uid (in that order: once the uid
 * is dropped the others can no longer change). Throws unless the switch took exactly, so plugin
 * code never runs as root because a switch failed.
 */
export function switchUser(identity: ChildIdentity): void {
  // @types/node omits initgroups; Node has it on POSIX.
  const { initgroups } = process as unknown as { initgroups: (user: string, gid: number) => void };
  initgroups(identity.user, identity.gid);
  process.setgid!(identity.gid);
  process.setuid!(identity.uid);
  if (
    process.getuid!() !== identity.uid ||
    process.geteuid!() !== identity.uid ||
    process.getgid!() !== identity.gid
  ) {
    throw new Error(`switch to ${identity.user} (${identity.uid}:${identity.gid}) did not take`);
  }
  process.env.HOME = identity.home;
  process.env.USER = identity.user;
  process.env.LOGNAME = identity.user;
}
