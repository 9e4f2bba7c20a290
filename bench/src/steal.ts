/**
 * The share of the machine's CPU time that the hypervisor gave to other guests while a run was
 * measured: the `steal` column of /proc/stat. On a shared virtual machine a round with steal is
 * slower for reasons outside both systems, and its CPU time a task is higher (bench/FINDINGS.md,
 * _The broker's work_): the bench prints it beside each round.
 */
import { readFileSync } from 'node:fs';

export interface CpuTicks {
  steal: number;
  /** user, nice, system, idle, iowait, irq, softirq and steal (guest time is within user). */
  total: number;
}

/** The machine's CPU ticks so far, from the text of /proc/stat. */
export function parseCpuTicks(procStat: string): CpuTicks {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no "cpu " line');
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (ticks.length < 8 || ticks.some((n) => !Number.isFinite(n)))
    throw new Error(`/proc/stat: cannot read "${line}"`);
  return { steal: ticks[7]!, total: ticks.reduce((a, b) => a + b, 0) };
}

export function cpuTicks(): CpuTicks {
  return parseCpuTicks(readFileSync('/proc/stat', 'utf8'));
}

/** Per cent of the machine's CPU time stolen between two readings. */
export function stealPercent(before: CpuTicks, after: CpuTicks): number {
  const total = after.total - before.total;
  return total > 0 ? (100 * (after.steal - before.steal)) / total : 0;
}
