import { childPids, isAlive } from './processes.js';
import type { Program } from './programs.js';

/**
 * The live children of one group of a running pool, from the pool's own transition log and
 * /proc, sorted: a reload that restarts the group changes them all, one that leaves it alone
 * none.
 */
export function livePids(pool: Program, group: string): number[] {
  const children = new Set(childPids(pool.pid));
  const started = pool
    .logs()
    .filter((l) => l.msg === 'child state' && l.group === group && l.to === 'running')
    .map((l) => Number(l.childPid));
  return [...new Set(started)]
    .filter((pid) => children.has(pid) && isAlive(pid))
    .sort((a, b) => a - b);
}
