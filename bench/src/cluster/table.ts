/** The summary of `npm run bench:cluster`: medians per cluster size and path, and what they mean. */
import { median } from '../stats.js';
import type { PathName } from './options.js';

export interface Row {
  type: 'run';
  at: string;
  hosts: number;
  path: PathName;
  target: string;
  round: number;
  childrenPerHost: number[];
  w: number;
  tasks: number;
  tasksPerSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** CPU ms per task of each node's broker. */
  brokerMsPerTask?: Record<string, number>;
  /** CPU ms per task of each host's dispatcher, and of its pool with its children. */
  dispatcherMsPerTask?: Record<string, number>;
  workersMsPerTask?: Record<string, number>;
  loadMsPerTask?: number;
  /** Cores our processes (brokers, programs, the load) used during the run. */
  oursCoresBusy?: number;
  /** Cores of this machine busy during the run (all processes, not only ours). */
  machineCoresBusy?: number;
  duplicates?: number;
  error?: string;
}

const sum = (record: Record<string, number> | undefined) =>
  Object.values(record ?? {}).reduce((a, b) => a + b, 0);
const fixed = (value: number, digits: number, width: number) =>
  value.toFixed(digits).padStart(width);

const HEADER =
  'hosts path        tasks/s  (min–max)     p50 ms | CPU ms/task: broker per node (sum)  dispatcher workers load | cores: ours machine';

export function summary(rows: Row[], paths: PathName[], log: (line: string) => void): void {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    if (r.error) continue;
    const key = `${r.hosts}/${r.path}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  log(`\n${HEADER}`);
  for (const n of [...new Set(rows.map((r) => r.hosts))]) {
    for (const path of paths) {
      const rs = groups.get(`${n}/${path}`);
      if (!rs) {
        log(`${String(n).padEnd(5)} ${path.padEnd(11)} no figure (every round failed)`);
        continue;
      }
      const m = (f: (r: Row) => number) => median(rs.map(f));
      const tps = rs.map((r) => r.tasksPerSec!);
      const nodes = Object.keys(rs[0]!.brokerMsPerTask ?? {});
      const perNode = nodes.map((ns) => m((r) => r.brokerMsPerTask?.[ns] ?? 0).toFixed(3));
      const broker = `${perNode.join(' ')} (${m((r) => sum(r.brokerMsPerTask)).toFixed(3)})`;
      log(
        `${String(n).padEnd(5)} ${path.padEnd(11)}${fixed(median(tps), 0, 8)}  ` +
          `${`(${Math.min(...tps)}–${Math.max(...tps)})`.padEnd(13)}${fixed(
            m((r) => r.p50Ms!),
            0,
            7,
          )} | ` +
          `${broker.padEnd(33)}${fixed(
            m((r) => sum(r.dispatcherMsPerTask)),
            3,
            11,
          )}` +
          `${fixed(
            m((r) => sum(r.workersMsPerTask)),
            3,
            8,
          )}${fixed(
            m((r) => r.loadMsPerTask!),
            3,
            6,
          )} | ` +
          `${fixed(
            m((r) => r.oursCoresBusy!),
            2,
            11,
          )}${fixed(
            m((r) => r.machineCoresBusy!),
            2,
            8,
          )}`,
      );
    }
    capacity(n, groups, log);
  }
}

/**
 * What the CPU per task says a core would do alone: the figures to plan with, less bound to how
 * many cores this machine had to share than tasks/s are.
 */
function capacity(n: number, groups: Map<string, Row[]>, log: (line: string) => void): void {
  const through = groups.get(`${n}/dispatcher`);
  const direct = groups.get(`${n}/direct`);
  for (const [name, rs] of [
    ['dispatcher', through],
    ['direct', direct],
  ] as const) {
    if (!rs) continue;
    const m = (f: (r: Row) => number) => median(rs.map(f));
    const busiest = m((r) => Math.max(...Object.values(r.brokerMsPerTask ?? {})));
    const perCore = (ms: number) => (ms > 0 ? (1000 / ms).toFixed(0) : '–');
    log(
      `      ${name}: tasks per CPU-second of all brokers ${perCore(m((r) => sum(r.brokerMsPerTask)))}, ` +
        `busiest node on a core of its own caps at ${perCore(busiest)}/s; ` +
        `per core of pool ${perCore(m((r) => sum(r.workersMsPerTask)))}/s` +
        (name === 'dispatcher'
          ? `, of dispatcher ${perCore(m((r) => sum(r.dispatcherMsPerTask)))}/s`
          : ''),
    );
  }
  if (!through || !direct) return;
  const total = (r: Row) =>
    sum(r.brokerMsPerTask) + sum(r.dispatcherMsPerTask) + sum(r.workersMsPerTask);
  const m = (rs: Row[], f: (r: Row) => number) => median(rs.map(f));
  log(
    `      the dispatcher's hop: throughput ×${(m(through, (r) => r.tasksPerSec!) / m(direct, (r) => r.tasksPerSec!)).toFixed(2)} ` +
      `of direct, +${(m(through, total) - m(direct, total)).toFixed(3)} CPU ms/task ` +
      `(broker +${(m(through, (r) => sum(r.brokerMsPerTask)) - m(direct, (r) => sum(r.brokerMsPerTask))).toFixed(3)}, ` +
      `dispatcher ${m(through, (r) => sum(r.dispatcherMsPerTask)).toFixed(3)})`,
  );
}
