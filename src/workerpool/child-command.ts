import type { ChildIdentity } from './ipc.js';

/** The child's entry point, next to this file in dist/. */
export const CHILD_ENTRY = new URL('./child/main.js', import.meta.url);

/** Where util-linux's setpriv is looked for (it is Essential on Debian). */
export const SETPRIV = '/usr/bin/setpriv';

/**
 * Flags every child starts with, each left out when the operator's NODE_OPTIONS sets it
 * (command-line flags would override it). The measurements behind each are in
 * bench/FINDINGS.md, "Figures moved out of comments: the pool's supervisor (issue 26)".
 *
 * `--max-semi-space-size=1`: the young generation at its smallest. Almost everything a child
 * allocates dies within its task, yet a busy child's young generation grows and its pages stay
 * resident: the smallest cap gives the lowest peak RSS, and the extra scavenges it costs (each
 * promoting less) are below the bench's noise. The cap came down in steps, the last once the
 * plugin's context stopped keeping every task alive through scavenges (invoke.ts). With large
 * tasks the peak no longer depends on the cap but the CPU per task does: an operator with large
 * workitems gives the group a fixed, larger one (`semi_space_size`, on the command line, where it
 * wins over NODE_OPTIONS).
 *
 * `--v8-pool-size=1`: one thread for V8's background work (optimizing compiles, concurrent GC)
 * instead of the default few. When a child warms up, parallel compile jobs each fill a malloc
 * arena of their own (seen in /proc/PID/smaps, given back soon after), and the peak RSS keeps
 * them; with one thread the peak is lower and the CPU per task unchanged within the noise. A
 * child's heap is small; it has no use for parallel GC threads. libuv's threadpool (a plugin's
 * async fs, crypto, dns) is not this pool.
 */
export function childNodeFlags(
  nodeOptions = process.env.NODE_OPTIONS ?? '',
  semiSpaceMiB?: number,
): string[] {
  const flags: string[] = [];
  // Fixed, not a cap: V8 starts a semi-space at 1 MiB and grows it only after much has survived,
  // which is the promotion the setting is there to avoid (bench/FINDINGS.md, issue 31).
  if (semiSpaceMiB !== undefined)
    flags.push(`--max-semi-space-size=${semiSpaceMiB}`, `--min-semi-space-size=${semiSpaceMiB}`);
  else if (!/--max-semi-space-size\b/.test(nodeOptions)) flags.push('--max-semi-space-size=1');
  if (!/--v8-pool-size\b/.test(nodeOptions)) flags.push('--v8-pool-size=1');
  return flags;
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
  semiSpaceMiB?: number,
): { file: string; args: string[]; env: Record<string, string> } {
  const node = [...childNodeFlags(undefined, semiSpaceMiB), entry];
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
