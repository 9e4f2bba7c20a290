/**
 * What the kernel says about the processes under test: CPU time from /proc/PID/stat
 * (utime + stime, all threads) and memory from /proc/PID/status (VmRSS now, VmHWM the peak).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (100 on every Linux we know, but ask). */
const CLK_TCK = (() => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
})();

/** The fields after "pid (comm) ": comm may hold spaces and parentheses, so cut at the last ')'. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU milliseconds the process used so far, or undefined once it is gone. */
export function cpuMs(pid: number): number | undefined {
  const f = statFields(pid);
  if (!f) return undefined;
  // stat(5) fields 14 and 15; f[0] is field 3.
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/** Whether the process exists and is not a zombie (dead, not yet reaped by its parent). */
export function alive(pid: number): boolean {
  const f = statFields(pid);
  return f !== undefined && f[0] !== 'Z';
}

export interface Memory {
  rssKiB: number;
  hwmKiB: number;
}

export function memory(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
    const m = { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
    // A zombie has no memory lines left.
    return Number.isNaN(m.rssKiB) || Number.isNaN(m.hwmKiB) ? undefined : m;
  } catch {
    return undefined;
  }
}

/** The live processes whose parent is `pid`. */
export function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    if (!Number.isInteger(child) || child <= 0) continue;
    if (Number(statFields(child)?.[1]) === pid) found.push(child);
  }
  return found;
}

/** `pid` and all its live descendants (a broker is a shell, beam.smp and helpers). */
export function treeOf(pid: number): number[] {
  const tree = [pid];
  // Bounded: a process tree deeper than this is not one this bench started.
  for (let i = 0; i < tree.length && i < 1000; i++) tree.push(...childrenOf(tree[i]!));
  return tree;
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** What a process used so far; the I/O calls and switches explain much of the CPU here. */
export interface Counters {
  cpuMs: number;
  /** read- and write-like syscalls (/proc/PID/io syscr + syscw: sockets, pipes, files). */
  ioCalls: number;
  /** Context switches, voluntary (blocking, waiting) and not (preempted). */
  switches: number;
}

function ioCalls(pid: number): number {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const n = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(io)?.[1] ?? 0);
    return n('syscr') + n('syscw');
  } catch {
    return 0;
  }
}

function switches(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const n = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return n('voluntary_ctxt_switches') + n('nonvoluntary_ctxt_switches');
  } catch {
    return 0;
  }
}

/** Per role (a role may be several processes: the broker's tree), the sum of their counters. */
export type Snapshot = Map<string, Counters>;

export function snapshot(roles: Map<string, number[]>): Snapshot {
  const snap: Snapshot = new Map();
  for (const [role, pids] of roles) {
    const sum: Counters = { cpuMs: 0, ioCalls: 0, switches: 0 };
    for (const pid of pids) {
      sum.cpuMs += cpuMs(pid) ?? 0;
      sum.ioCalls += ioCalls(pid);
      sum.switches += switches(pid);
    }
    snap.set(role, sum);
  }
  return snap;
}

/** Per role, what the same processes used between two snapshots. */
export function delta(before: Snapshot, after: Snapshot): Record<string, Counters> {
  const out: Record<string, Counters> = {};
  for (const [role, now] of after) {
    const then = before.get(role) ?? { cpuMs: 0, ioCalls: 0, switches: 0 };
    out[role] = {
      cpuMs: now.cpuMs - then.cpuMs,
      ioCalls: now.ioCalls - then.ioCalls,
      switches: now.switches - then.switches,
    };
  }
  return out;
}

export interface PeakMemory {
  /** Highest VmRSS seen by the sampler. */
  sampledMiB: number;
  /** VmHWM at the last sample: the kernel's own peak, over the whole life of the process. */
  hwmMiB: number;
}

/**
 * Samples VmRSS/VmHWM of the given processes every `everyMs` until stop(). VmHWM alone would
 * do for the peak; the samples show whether the peak was reached under load or at startup.
 */
export class RssSampler {
  #pids: Map<string, number>;
  #peaks = new Map<string, PeakMemory>();
  #timer: NodeJS.Timeout;

  constructor(pids: Map<string, number>, everyMs = 250) {
    this.#pids = pids;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), everyMs);
  }

  /** The latest VmRSS per role, in MiB (undefined for a process that is gone). */
  now(): Map<string, number | undefined> {
    const out = new Map<string, number | undefined>();
    for (const [role, pid] of this.#pids) {
      const m = memory(pid);
      out.set(role, m ? m.rssKiB / 1024 : undefined);
    }
    return out;
  }

  stop(): Record<string, PeakMemory> {
    clearInterval(this.#timer);
    this.#sample();
    return Object.fromEntries(this.#peaks);
  }

  #sample(): void {
    for (const [role, pid] of this.#pids) {
      const m = memory(pid);
      if (!m) continue;
      const peak = this.#peaks.get(role) ?? { sampledMiB: 0, hwmMiB: 0 };
      peak.sampledMiB = Math.max(peak.sampledMiB, m.rssKiB / 1024);
      peak.hwmMiB = Math.max(peak.hwmMiB, m.hwmKiB / 1024);
      this.#peaks.set(role, peak);
    }
  }
}
