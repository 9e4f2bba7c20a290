/** The human summary: one table per variant, then the ratios of all variants. */
import type { RunRow } from './run.js';
import { median } from './stats.js';
import { ANCHORS, SYSTEM_KINDS, type SystemKind } from './system-kinds.js';
import type { Variant } from './variants.js';

/** The width of the system column: the longest name (bullmq-everysec) and a space. */
const NAME_WIDTH = Math.max(...SYSTEM_KINDS.map((k) => k.length)) + 1;

export interface Summary {
  rounds: number;
  failed: number;
  rate: { median: number; min: number; max: number };
  p50: number;
  p99: number;
  max: number;
  cpu: number;
  brokerCpu: number;
  /** The broker's Erlang reductions per task, NaN where not measured (RunRow.brokerReductions). */
  brokerReductions: number;
  /** read/write syscalls and context switches per task, all processes of the system. */
  ioCalls: number;
  switches: number;
  /** Peak VmHWM per role over all rounds, MiB. */
  rss: Map<string, number>;
  /** CPU µs per task of each stage: the router (relay or dispatcher) and all workers together. */
  routerUs: number;
  workersUs: number;
  /** The publisher/collector's own CPU µs per task (the bench process; BullMQ's client is dearer). */
  loadUs: number;
}

/**
 * The router's role in each system; every other role but the pool and broker is a worker (the
 * anchors' roles too: Celery's main process and pool, BullMQ's workers and sandboxes).
 */
const ROUTER_ROLES = new Set(['relay', 'dispatcher']);
// The tracker (tracking variants) is in the system's total, not in the workers' stage.
// So is taskqueue-api (the -api variants: the HTTP submits, its store and its tracker).
const NOT_WORKER_ROLES = new Set(['relay', 'dispatcher', 'pool', 'broker', 'tracker', 'api']);

function stageUs(row: RunRow, isStage: (role: string) => boolean): number {
  const ms = Object.entries(row.cpuMs ?? {})
    .filter(([role]) => isStage(role))
    .reduce((sum, [, n]) => sum + n, 0);
  return (ms * 1000) / row.tasks;
}

export function summarize(rows: RunRow[]): Summary | undefined {
  const ok = rows.filter((r) => r.error === undefined && r.tasksPerSec !== undefined);
  if (ok.length === 0) return undefined;
  const rates = ok.map((r) => r.tasksPerSec!);
  const rss = new Map<string, number>();
  for (const r of ok)
    for (const [role, m] of Object.entries(r.rssMiB ?? {}))
      rss.set(role, Math.max(rss.get(role) ?? 0, m.hwmMiB));
  const ownSum = (perRole: Record<string, number> | undefined) =>
    Object.entries(perRole ?? {})
      .filter(([role]) => role !== 'broker')
      .reduce((sum, [, n]) => sum + n, 0);
  return {
    rounds: ok.length,
    failed: rows.length - ok.length,
    rate: { median: median(rates), min: Math.min(...rates), max: Math.max(...rates) },
    p50: median(ok.map((r) => r.latencyMs!.p50)),
    p99: median(ok.map((r) => r.latencyMs!.p99)),
    max: Math.max(...ok.map((r) => r.latencyMs!.max)),
    cpu: median(ok.map((r) => r.cpuMsPerTask!.system)),
    brokerCpu: medianOrNaN(ok.map((r) => r.cpuMsPerTask!.broker)),
    brokerReductions: medianOrNaN(ok.map((r) => r.brokerReductions)),
    ioCalls: median(ok.map((r) => ownSum(r.ioCallsPerTask))),
    switches: median(ok.map((r) => ownSum(r.switchesPerTask))),
    rss,
    routerUs: median(ok.map((r) => stageUs(r, (role) => ROUTER_ROLES.has(role)))),
    loadUs: median(ok.map((r) => ((r.loadCpuMs ?? Number.NaN) * 1000) / r.tasks)),
    workersUs: median(ok.map((r) => stageUs(r, (role) => !NOT_WORKER_ROLES.has(role)))),
  };
}

/** The median of the rounds that have the figure (null or absent: not measured); else NaN. */
function medianOrNaN(values: (number | null | undefined)[]): number {
  const known = values.filter((n): n is number => n !== null && n !== undefined);
  return known.length ? median(known) : Number.NaN;
}

const ms = (v: number) => (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));
export const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !Number.isFinite(a / b) ? '   -' : `×${(a / b).toFixed(2)}`;

function sizeOf(bytes: number): string {
  return bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

export function describeVariant(v: Variant): string {
  return (
    `${v.name}: K=${v.k} W=${v.w}, ${sizeOf(v.payloadBytes)} tasks, window ${v.window}, ` +
    (v.direct ? 'straight to the worker queue, ' : '') +
    (v.path ? 'taskqueue through the types exchange (direct path), ' : '') +
    (v.apiClients ? `submitted through taskqueue-api by ${v.apiClients} HTTP clients, ` : '') +
    `${v.tasks} tasks × ${v.rounds} round${v.rounds > 1 ? 's' : ''}`
  );
}

export function variantTable(
  v: Variant,
  rows: RunRow[],
  kinds: readonly SystemKind[] = ['ceiling', 'taskqueue'],
): string {
  const out: string[] = [`\n=== ${describeVariant(v)}`];
  out.push(
    `${'system'.padEnd(NAME_WIDTH)} ${'tasks/s'.padStart(8)} ${'(min–max)'.padEnd(15)} ` +
      `${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ` +
      `${'CPU ms/task'.padStart(12)} ${'broker ms/task'.padStart(15)}`,
  );
  const sums = new Map<SystemKind, Summary | undefined>();
  for (const kind of kinds) {
    const s = summarize(rows.filter((r) => r.system === kind));
    sums.set(kind, s);
    const failed = rows.filter((r) => r.system === kind && r.error !== undefined).length;
    if (!s) {
      out.push(`${kind.padEnd(NAME_WIDTH)} no figure: ${failed} run(s) failed`);
      continue;
    }
    out.push(
      `${kind.padEnd(NAME_WIDTH)} ${s.rate.median.toFixed(0).padStart(8)} ` +
        `${`(${s.rate.min.toFixed(0)}–${s.rate.max.toFixed(0)})`.padEnd(15)} ` +
        `${ms(s.p50).padStart(8)} ${ms(s.p99).padStart(8)} ${ms(s.max).padStart(8)} ` +
        `${s.cpu.toFixed(3).padStart(12)} ${(Number.isNaN(s.brokerCpu) ? '-' : s.brokerCpu.toFixed(3)).padStart(15)}` +
        (failed ? `   (${failed} failed run(s) left out)` : ''),
    );
  }
  const c = sums.get('ceiling');
  const t = sums.get('taskqueue');
  for (const other of kinds.filter((k) => k !== 'taskqueue')) {
    const o = sums.get(other);
    out.push(
      `ratio taskqueue/${other}: tasks/s ${ratio(t?.rate.median, o?.rate.median)}, ` +
        `p50 ${ratio(t?.p50, o?.p50)}, p99 ${ratio(t?.p99, o?.p99)}, ` +
        `CPU/task ${ratio(t?.cpu, o?.cpu)}, broker CPU/task ${ratio(t?.brokerCpu, o?.brokerCpu)}`,
    );
  }
  const api = apiLine(rows);
  if (api) out.push(api);
  const rss = (s: Summary | undefined) =>
    s ? [...s.rss].map(([role, mib]) => `${role} ${mib.toFixed(0)}`).join(', ') : '-';
  out.push(`peak RSS MiB (VmHWM): ${kinds.map((k) => `${k} ${rss(sums.get(k))}`).join(' | ')}`);
  const perTask = (s: Summary | undefined) =>
    s
      ? `${s.ioCalls.toFixed(1)} read/write syscalls, ${s.switches.toFixed(1)} context switches, ` +
        `load ${s.loadUs.toFixed(0)} µs` +
        (Number.isNaN(s.brokerReductions)
          ? ''
          : `, broker ${s.brokerReductions.toFixed(0)} reductions`)
      : '-';
  out.push(
    `per task, all its processes: ${kinds.map((k) => `${k} ${perTask(sums.get(k))}`).join(' | ')}`,
  );
  // Per stage, because the total hides which side moved (the machine's speed drifts between
  // runs; a stage's ratio to its counterpart in the same round drifts much less).
  if (c && t)
    out.push(
      `CPU µs per task by stage: router ${c.routerUs.toFixed(0)} (relay) | ` +
        `${t.routerUs.toFixed(0)} (dispatcher) ${ratio(t.routerUs, c.routerUs)}; ` +
        `workers ${c.workersUs.toFixed(0)} | ${t.workersUs.toFixed(0)} (children) ` +
        `${ratio(t.workersUs, c.workersUs)}`,
    );
  const note = pathNote(v, t);
  if (note) out.push(note);
  return out.join('\n');
}

/**
 * Dispatcher CPU per task above which a `-path` run's tasks went through the dispatcher: idle, it
 * spends a few µs a task on timers and heartbeats; forwarding costs it a hundred and more.
 */
const FORWARDED_US = 20;

/**
 * A `-path` variant whose tasks went through the dispatcher: the build's pool does not bind
 * `worker_<type>` to the types exchange, so the alternate exchange took them to the input queue.
 * The run is valid (nothing lost) but does not measure the direct path: say so beside it.
 */
export function pathNote(v: Variant, taskqueue: Summary | undefined): string | undefined {
  if (!v.path || !taskqueue || !(taskqueue.routerUs > FORWARDED_US)) return undefined;
  return (
    `note: the dispatcher forwarded this variant's tasks (${taskqueue.routerUs.toFixed(0)} µs ` +
    'a task): worker_echo is not bound to taskqueue.types in this build, so this is not the ' +
    'direct path'
  );
}

/**
 * The -api variants' own figures: submits/s (201 = recorded and published), the POST's round
 * trip, and the API process's CPU a task (its HTTP, store and tracker). Their tasks/s above is
 * end to end: first submit until the store has every task final.
 */
/** After an -api variant's summary row: its submits/s (median). */
function submits(rows: RunRow[]): string {
  const rates = rows.filter((r) => r.submitsPerSec !== undefined).map((r) => r.submitsPerSec!);
  return rates.length ? `  submits/s ${median(rates).toFixed(0)}` : '';
}

function apiLine(rows: RunRow[]): string | undefined {
  const ok = rows.filter((r) => r.submitsPerSec !== undefined && r.error === undefined);
  if (ok.length === 0) return undefined;
  const rates = ok.map((r) => r.submitsPerSec!);
  const apiUs = median(ok.map((r) => ((r.cpuMs?.api ?? 0) * 1000) / r.tasks));
  return (
    `through taskqueue-api: submits/s ${median(rates).toFixed(0)} ` +
    `(${Math.min(...rates).toFixed(0)}–${Math.max(...rates).toFixed(0)}), ` +
    `POST p50 ${ms(median(ok.map((r) => r.latencyMs!.p50)))} ms ` +
    `p99 ${ms(median(ok.map((r) => r.latencyMs!.p99)))} ms, ` +
    `taskqueue-api CPU ${apiUs.toFixed(0)} µs/task; its tasks/s is end to end (store: all final), ` +
    "its p50/p99 the POST's"
  );
}

/**
 * One line per variant: tasks/s of every system that ran (medians), taskqueue's ratio to the
 * ceiling in tasks/s, p50 and CPU per task, then its tasks/s ratio to each anchor that ran: the
 * README's summary table from one run.
 */
export function overallTable(
  variants: Variant[],
  rows: RunRow[],
  systems: readonly SystemKind[] = ['ceiling', 'taskqueue'],
): string {
  const ran = systems.filter((k) => rows.some((r) => r.system === k));
  const anchors = ran.filter((k) => ANCHORS.includes(k));
  const width = (name: string) => Math.max(8, name.length + 1);
  const out = [
    '\n=== summary (medians; ratio = taskqueue / ceiling, then taskqueue / each anchor)',
  ];
  out.push(
    `${'variant'.padEnd(16)}` +
      ran.map((k) => `${k}/s`.padStart(width(`${k}/s`) + 1)).join('') +
      ` ${'tasks/s'.padStart(8)} ${'p50'.padStart(7)} ${'CPU/task'.padStart(9)}` +
      anchors.map((k) => `tq/${k}`.padStart(width(`tq/${k}`) + 1)).join(''),
  );
  for (const v of variants) {
    const mine = rows.filter((r) => r.variant === v.name);
    if (mine.length === 0) continue;
    const sums = new Map(ran.map((k) => [k, summarize(mine.filter((r) => r.system === k))]));
    const c = sums.get('ceiling');
    const t = sums.get('taskqueue');
    out.push(
      `${v.name.padEnd(16)}` +
        ran
          .map((k) => {
            const s = sums.get(k);
            return (s ? s.rate.median.toFixed(0) : '-').padStart(width(`${k}/s`) + 1);
          })
          .join('') +
        ` ${ratio(t?.rate.median, c?.rate.median).padStart(8)} ${ratio(t?.p50, c?.p50).padStart(7)} ` +
        `${ratio(t?.cpu, c?.cpu).padStart(9)}` +
        anchors
          .map((k) =>
            ratio(t?.rate.median, sums.get(k)?.rate.median).padStart(width(`tq/${k}`) + 1),
          )
          .join('') +
        submits(mine),
    );
  }
  return out.join('\n');
}
