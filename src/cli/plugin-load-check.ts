import { availableParallelism } from 'node:os';
import { runOneShot } from '../workerpool/one-shot-child.js';
import type { OneShotPlugin } from '../workerpool/one-shot-ipc.js';

/** Seconds `taskqueue plugins` gives a plugin to load before it reports it timed out. */
export const DEFAULT_LOAD_TIMEOUT_S = 30;

/** Children loading plugins at once: each is a Node process, some 40 MiB while it starts. */
export const LOAD_CONCURRENCY = Math.max(1, Math.min(4, availableParallelism()));

/** Whether a plugin loaded in a child as its group's user, else the code and reason. */
export type LoadCheck = { ok: true } | { ok: false; code: string; message: string };

/**
 * Loads the plugin in a one-shot child started as the pool starts the group's children (its
 * user, its node flags) and reports how that went: `loaded`, the child's own error (identity,
 * import, API range, shape), or a child that timed out (SIGKILL: a plugin whose import hangs
 * must not hang the command) or ended without a word. Never runs `setup`.
 */
export async function loadCheck(plugin: OneShotPlugin, timeoutMs: number): Promise<LoadCheck> {
  const end = await runOneShot({ kind: 'load', plugin }, (last) =>
    last === undefined
      ? { ms: timeoutMs, reason: `timed out: not loaded within ${timeoutMs / 1000} s` }
      : undefined,
  );
  if (end.replies.some((r) => r.kind === 'loaded')) return { ok: true };
  const fatal = end.replies.find((r) => r.kind === 'fatal');
  if (fatal) return { ok: false, code: fatal.code, message: fatal.message };
  if (end.killed !== undefined) {
    return { ok: false, code: 'TQ_ERR_PLUGIN_LOAD_TIMEOUT', message: end.killed };
  }
  const how = end.spawnError
    ? `could not start: ${end.spawnError.message}`
    : `ended (${end.signal ? `signal ${end.signal}` : `exit code ${end.code}`}) before it loaded`;
  return { ok: false, code: 'TQ_ERR_PLUGIN_LOAD', message: `the child ${how}` };
}

/** Runs `task` for each item, at most `limit` at a time; results in the items' order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
