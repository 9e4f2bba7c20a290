import { type Stats, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Walks an absolute path from `/` down to itself, one stat a component, and returns the first
 * reason `check` gives (or why a component cannot be stat'ed); undefined when every component
 * passes. From the top down, so that a reason names the outermost component that blocks: the
 * pool's trust check (who may change the code) and its readability check (who may read it) both
 * judge a path by every directory above it.
 */
export function firstBlockingComponent(
  path: string,
  check: (component: string, stat: Stats) => string | undefined,
): string | undefined {
  const chain: string[] = [];
  for (let at = path; ; at = dirname(at)) {
    chain.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const at of chain) {
    let stat: Stats;
    try {
      stat = statSync(at);
    } catch (err) {
      return `${at}: cannot stat: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
    }
    const reason = check(at, stat);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

/** The permission bits of a mode as `ls` and chmod write them: `0755`, `1777`. */
export function modeText(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}
