import { TqError } from '../../common/errors.js';
import type { ChildIdentity } from '../ipc.js';

/**
 * Checks that the child already runs as `identity` (the pool starts it through setpriv, see
 * child-command.ts) before any plugin code loads. Throws TQ_ERR_CHILD_IDENTITY otherwise, so
 * plugin code never runs as root, or as anyone else, because a switch did not happen.
 */
export function verifyIdentity(identity: ChildIdentity): void {
  const ids = {
    uid: process.getuid?.(),
    euid: process.geteuid?.(),
    gid: process.getgid?.(),
    egid: process.getegid?.(),
  };
  if (
    ids.uid !== identity.uid ||
    ids.euid !== identity.uid ||
    ids.gid !== identity.gid ||
    ids.egid !== identity.gid
  ) {
    throw new TqError(
      'TQ_ERR_CHILD_IDENTITY',
      `runs as uid ${ids.uid}/${ids.euid} gid ${ids.gid}/${ids.egid}, not as ${identity.user} (${identity.uid}:${identity.gid}): refusing to load the plugin`,
      { details: { ...ids, user: identity.user, wantUid: identity.uid, wantGid: identity.gid } },
    );
  }
}
