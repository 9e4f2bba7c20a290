import type { ChildIdentity } from './ipc.js';

/** The child's entry point, next to this file in dist/. */
export const CHILD_ENTRY = new URL('./child/main.js', import.meta.url);

/** Where util-linux's setpriv is looked for (it is Essential on Debian). */
export const SETPRIV = '/usr/bin/setpriv';

/**
 * V8 flags every child starts with. A busy child's young generation grows to V8's default
 * maximum (16 MiB a semi-space) although almost everything it allocates dies within a task:
 * capped at 4 MiB, a child's peak RSS went from 88 to 80 MiB in the bench at no measurable CPU
 * cost (2 MiB gave 74 MiB but cost ~9 % more CPU per task in the children at W=1, from more
 * scavenges and promotions). An operator's own `--max-semi-space-size`
 * in NODE_OPTIONS wins: command-line flags would override it, so none is added then.
 */
export function childNodeFlags(nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  return /--max-semi-space-size\b/.test(nodeOptions) ? [] : ['--max-semi-space-size=4'];
}

/**
 * The command that starts a child, already as its group's user when it has one.
 *
 * The switch happens in `setpriv`, before Node starts, not in the child with
 * `process.initgroups/setgid/setuid`: Node 20 refuses those (ERR_INVALID_STATE, CVE-2024-22017)
 * whenever it is linked to a libuv that may use io_uring, as Debian 13's is; and Node's own
 * `uid`/`gid` spawn options would drop the supplementary groups. `--init-groups` sets the user's
 * groups from the user database (NSS), then the gid, then the uid; the kernel clears the
 * capabilities with the uid change. The child checks the result before it loads any plugin.
 */
export function childCommand(
  identity: ChildIdentity | undefined,
  entry: string,
): { file: string; args: string[]; env: Record<string, string> } {
  const node = [...childNodeFlags(), entry];
  if (!identity) return { file: process.execPath, args: node, env: {} };
  return {
    file: SETPRIV,
    args: [
      `--reuid=${identity.uid}`,
      `--regid=${identity.gid}`,
      '--init-groups',
      '--',
      process.execPath,
      ...node,
    ],
    env: { HOME: identity.home, USER: identity.user, LOGNAME: identity.user },
  };
}
