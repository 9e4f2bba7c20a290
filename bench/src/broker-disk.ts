/**
 * What the broker asks of the disk during a measured run: bytes written to storage
 * (/proc/PID/io `write_bytes`, every run) and, with BENCH_BROKER_SYSCALLS=1, its fsync and
 * fdatasync calls, counted by `perf stat` on the syscall tracepoints of the beam's threads (in the
 * kernel, cheap: no ptrace stop as with strace). The figure that tells a quorum queue's Raft log
 * from a classic queue's store (bench/FINDINGS.md, _Quorum queues_).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const SYSCALLS = ['fsync', 'fdatasync'] as const;

export interface BrokerDisk {
  /** KiB written to storage per task (the page cache's writeback included: it is the broker's). */
  writeKiBPerTask: number;
  /** Per task, with BENCH_BROKER_SYSCALLS=1: fsync and fdatasync calls of the broker. */
  syncsPerTask?: Record<string, number>;
}

function writeBytes(pids: number[]): number {
  let sum = 0;
  for (const pid of pids) {
    try {
      const io = readFileSync(`/proc/${pid}/io`, 'utf8');
      sum += Number(/^write_bytes:\s+(\d+)/m.exec(io)?.[1] ?? 0);
    } catch {
      // gone, or not ours to read
    }
  }
  return sum;
}

/** `perf stat -x,` output: "count,unit,event,..." per line; the counts by syscall name. */
export function parsePerfStat(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [count, , event] = line.split(',');
    const name = /^syscalls:sys_enter_(\w+)$/.exec(event ?? '')?.[1];
    if (name === undefined) continue;
    counts[name] = (counts[name] ?? 0) + (Number(count) || 0);
  }
  return counts;
}

export class BrokerDiskMeter {
  readonly #pids: number[];
  readonly #written: number;
  readonly #perf: ChildProcess | undefined;
  #perfOut = '';

  constructor(pids: number[]) {
    this.#pids = pids;
    this.#written = writeBytes(pids);
    if (process.env.BENCH_BROKER_SYSCALLS !== '1' || pids.length === 0) return;
    const events = SYSCALLS.map((s) => `syscalls:sys_enter_${s}`).join(',');
    this.#perf = spawn('perf', ['stat', '-x,', '-e', events, '-p', pids.join(',')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#perf.stderr?.on('data', (chunk: Buffer) => {
      this.#perfOut += chunk.toString('utf8');
    });
    this.#perf.once('error', () => {});
  }

  /** The figures since construction, per task; stops perf. */
  async stop(tasks: number): Promise<BrokerDisk> {
    const out: BrokerDisk = {
      writeKiBPerTask: (writeBytes(this.#pids) - this.#written) / 1024 / tasks,
    };
    const perf = this.#perf;
    if (!perf) return out;
    if (perf.exitCode === null) {
      const exited = new Promise((resolve) => perf.once('exit', resolve));
      perf.kill('SIGINT');
      await exited;
    }
    const counts = parsePerfStat(this.#perfOut);
    if (Object.keys(counts).length === 0)
      throw new Error(`BENCH_BROKER_SYSCALLS: perf stat gave no counts: ${this.#perfOut.trim()}`);
    out.syncsPerTask = Object.fromEntries(
      Object.entries(counts).map(([name, n]) => [name, n / tasks]),
    );
    return out;
  }
}
