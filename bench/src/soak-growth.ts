import { median, round } from './stats.js';

/** RSS of each role at one moment of a soak (null: the process was gone). */
export interface Sample {
  atS: number;
  rssMiB: Record<string, number | null>;
}

/** The end of the first minute: the soak's warm-up before V8's heaps were seen to settle slowly. */
export const FIRST_MINUTE_S = 60;

/**
 * Where the soak's growth counts from: `given` (--warmup), else a third of the soak.
 *
 * Not the first minute: a process's V8 old generation reaches its steady saw-tooth only once
 * garbage has first filled it to the limit of its first full GC (some 5 MiB above its size after
 * start, in the children), and since tasks stopped surviving scavenges little garbage gets there.
 * In the 3600 s soak of 845248f at half capacity (/proc/PID/smaps every 10 s), that took some 20
 * minutes; counted from the first minute, the children grew +9 % and +12 % and then stayed in
 * their saw-tooth, counted from t=1200 s +0.8 % and +3.3 %. A leak still shows over the two thirds
 * left.
 */
export function warmupSeconds(seconds: number, given: number | undefined): number {
  return given ?? Math.round(seconds / 3);
}

/** How many samples at each end the steady growth takes the median of. */
export const STEADY_SAMPLES = 5;

export interface Growth {
  /** The printed report, one line each. */
  lines: string[];
  /** From the first sample after the warm-up to the last one, per role; null when gone. */
  endToEndMiB: Record<string, number | null>;
  /**
   * The median of the last STEADY_SAMPLES samples minus that of the first STEADY_SAMPLES after
   * the warm-up, per role; absent when the soak has fewer than twice that many samples.
   */
  steadyMiB?: Record<string, number | null>;
}

/**
 * RSS growth after the warm-up, two ways. End to end compares two single samples, and a busy
 * process's RSS swings by a few MiB from one minute to the next (malloc arenas and V8 pages
 * taken and given back): in a 3600 s soak the dispatcher went 67.9 → 72.3 → 67.1 MiB in two
 * minutes. The steady growth compares medians of five samples at each end, so that a leak shows
 * and a swing does not.
 */
export function soakGrowth(
  samples: Sample[],
  warmupS: number,
  label = 'after warm-up',
): Growth | undefined {
  const settled = samples.filter((s) => s.atS >= warmupS);
  const first = settled[0];
  const last = settled[settled.length - 1];
  if (!first || !last || first === last) return undefined;
  const lines = [`RSS growth ${label}, t=${first.atS} s → t=${last.atS} s:`];
  const endToEndMiB: Record<string, number | null> = {};
  const steady = settled.length >= 2 * STEADY_SAMPLES;
  const steadyMiB: Record<string, number | null> = {};
  for (const role of Object.keys(first.rssMiB)) {
    const series = settled.map((s) => s.rssMiB[role]);
    if (series.some((mib) => mib === null || mib === undefined)) {
      endToEndMiB[role] = null;
      if (steady) steadyMiB[role] = null;
      lines.push(`  ${role.padEnd(10)} gone during the soak`);
      continue;
    }
    const mib = series as number[];
    const from = mib[0] as number;
    const to = mib[mib.length - 1] as number;
    endToEndMiB[role] = round(to - from, 1);
    let line = `  ${role.padEnd(10)} ${change(from, to)} end to end`;
    if (steady) {
      const head = median(mib.slice(0, STEADY_SAMPLES));
      const tail = median(mib.slice(-STEADY_SAMPLES));
      steadyMiB[role] = round(tail - head, 1);
      line += `; ${change(head, tail)} median of ${STEADY_SAMPLES} samples at each end`;
    }
    lines.push(line);
  }
  return steady ? { lines, endToEndMiB, steadyMiB } : { lines, endToEndMiB };
}

function change(from: number, to: number): string {
  const diff = to - from;
  const sign = diff >= 0 ? '+' : '';
  const percent = from > 0 ? ` (${sign}${((diff / from) * 100).toFixed(1)} %)` : '';
  return `${from.toFixed(1)} → ${to.toFixed(1)} MiB: ${sign}${diff.toFixed(1)} MiB${percent}`;
}
