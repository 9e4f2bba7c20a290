import { readFileSync } from 'node:fs';

/**
 * A process's resident memory in bytes, from the `VmRSS` line of /proc/PID/status (one small
 * read), or undefined when it cannot be read: the process ended, or it is not ours to see.
 */
export function readRss(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(text)?.[1];
  return kib === undefined ? undefined : Number(kib) * 1024;
}
