import type { ChildIdentity } from './ipc.js';

/** The child's entry point, next to this file in dist/. */
export const CHILD_ENTRY = new URL('./child/main.js', import.meta.url);

/** Where util-linux's setpriv is looked for (it is Essential on Debian). */
export const SETPRIV = '/usr/bin/setpriv';

/**
 * Flags every child starts with, each left out when the operator's NODE_OPTIONS sets it
 * (command-line flags would override it).
 *
 * `--max-semi-space-size=2`: a busy child's young generation grows (to 4 MiB a semi-space in the
 * bench) although almost everything it allocates dies within its task: capped at 2 MiB, a child's
 * peak RSS went from 69–71 to 66–68 MiB at no measurable CPU cost (2 pairs of runs at W=1 and
 * W=10). Before the plugin's context stopped keeping every task alive through scavenges
 * (invoke.ts), 2 MiB had cost ~9 % more CPU and 4 was the cap. Large workitems pay for it: with
 * 64 KiB tasks the tasks in flight outlive two scavenges and their Buffers wait for a full GC
 * (children 92–109 MiB and ~×1.3 a ceiling worker's CPU, against 85–90 and ~×1.1 with 8 MiB, which
 * costs 2–3 MiB with small tasks): README, Performance. An operator with large workitems sets
 * `--max-semi-space-size=8` in the pool's NODE_OPTIONS.
 *
 * `--v8-pool-size=1`: one thread for V8's background work (optimizing compiles, concurrent GC)
 * instead of four. When a child warms up, parallel compile jobs each fill a malloc arena of
 * their own (2–3 MiB resident, seen in /proc/PID/smaps, given back soon after), and the peak RSS
 * keeps them: 61–64 → 59–60 MiB (4 runs each), CPU per task unchanged within the noise. A child's
 * heap is small; it has no use for parallel GC threads. libuv's threadpool (a plugin's async fs,
 * crypto, dns) is not this pool.
 */
export function childNodeFlags(nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const flags: string[] = [];
  if (!/--max-semi-space-size\b/.test(nodeOptions)) flags.push('--max-semi-space-size=2');
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
