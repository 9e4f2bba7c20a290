/**
 * One measured run: fresh queues, a fresh system, a warm-up (JIT, connections, queue
 * declarations), then the measured tasks with CPU and memory of every process around them.
 */
import { INPUT_QUEUE, workerQueue } from './amqp.js';
import {
  declareTypesExchange,
  deleteTypesExchanges,
  TYPES_ROUTE,
} from './anchors/types-exchange.js';
import { type ApiLoadResult, runApiLoad } from './api-load.js';
import { type Broker, resetQueues } from './broker.js';
import { type BrokerDisk, BrokerDiskMeter } from './broker-disk.js';
import { Load, type LoadResult, type LoadSpec } from './load.js';
import {
  alive,
  type Counters,
  delta,
  type PeakMemory,
  RssSampler,
  snapshot,
} from './proc-sampler.js';
import { unlessFailed } from './processes.js';
import { percentile, round } from './stats.js';
import { cpuTicks, stealPercent } from './steal.js';
import { type SystemKind, startSystem } from './systems.js';
import type { Variant } from './variants.js';
import { TYPE } from './workitem.js';

const WARM_UP_TASKS = 500;

export interface RunRow {
  type: 'run';
  at: string;
  variant: string;
  system: SystemKind;
  round: number;
  k: number;
  w: number;
  payloadBytes: number;
  window: number;
  tasks: number;
  /** Set when the run produced no figure (a missing result, a process that died...). */
  error?: string;
  tasksPerSec?: number;
  elapsedMs?: number;
  latencyMs?: { p50: number; p99: number; max: number };
  /** CPU ms per task: all processes of the system under test; the broker apart. */
  cpuMsPerTask?: { system: number; broker: number | null };
  /** CPU ms during the measured tasks, per role. */
  cpuMs?: Record<string, number>;
  /** Per task, per role: read/write syscalls and context switches. */
  ioCallsPerTask?: Record<string, number>;
  switchesPerTask?: Record<string, number>;
  /** The publisher/collector's own CPU (the bench process), for judging the noise. */
  loadCpuMs?: number;
  rssMiB?: Record<string, PeakMemory>;
  duplicates?: number;
  strays?: number;
  /** -api variants: 201s a second (recorded and published), and how long the submits took. */
  submitsPerSec?: number;
  submitMs?: number;
  /** The broker's writes to storage (and fsyncs, with BENCH_BROKER_SYSCALLS=1) per task. */
  brokerDisk?: BrokerDisk;
  /** The broker's Erlang reductions per task (Broker.reductions), where it can be asked. */
  brokerReductions?: number;
  /** Per cent of the machine's CPU time the hypervisor took during the measured tasks (steal.ts). */
  stealPct?: number;
}

export interface BenchContext {
  broker: Broker;
  workDir: string;
  log: (line: string) => void;
  /** Ctrl-C: failures from now on are the stop's doing, not the system's. */
  interrupted: () => boolean;
}

const STALL_MS = 30_000;

/**
 * The systems whose load publishes as a client that knows the type (to the types exchange): the
 * one-hop limit always, taskqueue in the `-path` variants.
 */
export function directRoute(kind: SystemKind, v: Variant): LoadSpec['route'] {
  return kind === 'onehop' || (kind === 'taskqueue' && v.path) ? TYPES_ROUTE : undefined;
}

function loadSpec(
  run: string,
  v: Variant,
  count: number,
  window: number,
  route: LoadSpec['route'],
  queue: string | undefined,
): LoadSpec {
  return {
    run,
    count,
    window,
    payloadBytes: v.payloadBytes,
    queue: queue ?? (v.direct ? workerQueue(TYPE) : INPUT_QUEUE),
    ...(route ? { route } : {}),
    stallMs: STALL_MS,
    deadlineMs: 60_000 + count * 20,
    keepLatencies: true,
  };
}

export function baseRow(v: Variant, system: SystemKind, roundNo: number): RunRow {
  return {
    type: 'run',
    at: new Date().toISOString(),
    variant: v.name,
    system,
    round: roundNo,
    k: v.k,
    w: v.w,
    payloadBytes: v.payloadBytes,
    window: v.window,
    tasks: v.tasks,
  };
}

/** The row's figures from the load's result and what the processes used meanwhile. */
function figures(
  v: Variant,
  result: Pick<LoadResult, 'tasksPerSec' | 'elapsedMs' | 'latenciesMs'> &
    Partial<Pick<LoadResult, 'duplicates' | 'strays'>>,
  used: Record<string, Counters>,
  loadCpuMs: number,
): Partial<RunRow> {
  const perRole = (pick: (c: Counters) => number, digits: number) =>
    Object.fromEntries(Object.entries(used).map(([r, c]) => [r, round(pick(c), digits)]));
  const cpu = perRole((c) => c.cpuMs, 1);
  const { broker = null, ...own } = cpu;
  const systemCpu = Object.values(own).reduce((a, b) => a + b, 0);
  const lat = result.latenciesMs;
  return {
    tasksPerSec: round(result.tasksPerSec, 1),
    elapsedMs: round(result.elapsedMs, 1),
    latencyMs: {
      p50: round(percentile(lat, 50), 3),
      p99: round(percentile(lat, 99), 3),
      max: round(percentile(lat, 100), 3),
    },
    cpuMsPerTask: {
      system: round(systemCpu / v.tasks, 4),
      broker: broker === null ? null : round(broker / v.tasks, 4),
    },
    cpuMs: cpu,
    ioCallsPerTask: perRole((c) => c.ioCalls / v.tasks, 2),
    switchesPerTask: perRole((c) => c.switches / v.tasks, 2),
    loadCpuMs: round(loadCpuMs, 1),
    duplicates: result.duplicates,
    strays: result.strays,
  };
}

/** An API load's figures as a row's: its latencies are the submits' (POST to 201). */
function asRows(result: LoadResult | ApiLoadResult): Parameters<typeof figures>[1] {
  return 'submitsPerSec' in result ? { ...result, latenciesMs: result.submitLatenciesMs } : result;
}

export async function measure(
  ctx: BenchContext,
  v: Variant,
  kind: SystemKind,
  roundNo: number,
): Promise<RunRow> {
  const row = baseRow(v, kind, roundNo);
  const runId = `${v.name}-${kind}-r${roundNo}-${Date.now().toString(36)}`;
  const url = ctx.broker.url;
  await resetQueues(url, TYPE, v.queueType ?? 'classic');
  await deleteTypesExchanges(url);
  const route = directRoute(kind, v);
  // The one-hop limit binds its worker queue itself; taskqueue's pool must (that is measured).
  if (route) await declareTypesExchange(url, kind === 'onehop');
  const system = await startSystem(kind, { url, workDir: ctx.workDir, runId }, v);
  try {
    const load = system.openLoad ? await system.openLoad() : await Load.open(url);
    try {
      // Warm-up: V8 optimizes a function after some hundreds of calls, so always 500 tasks, even
      // before a short run (a quarter of 150 round trips left taskqueue's longer path half
      // compiled); the window is no less than 100 so that a round-trip variant warms up quickly.
      const api = system.api;
      const viaApi = (run: string, count: number) =>
        runApiLoad({
          ...api!,
          run,
          count,
          clients: v.apiClients!,
          payloadBytes: v.payloadBytes,
          deadlineMs: 60_000 + count * 20,
        });
      await unlessFailed<unknown>(
        api
          ? viaApi(`${runId}-warm`, WARM_UP_TASKS)
          : load.run(
              loadSpec(
                `${runId}-warm`,
                v,
                WARM_UP_TASKS,
                Math.max(100, v.window),
                route,
                system.queue,
              ),
            ),
        system.failed,
      );
      const measured = system.rolesAfterWarmUp?.() ?? system.roles;
      const roles = new Map([...measured].map(([role, pid]) => [role, [pid]]));
      // BullMQ's broker is its redis-server; the RabbitMQ node idles meanwhile.
      const brokerPids = system.brokerPids?.() ?? ctx.broker.pids();
      if (brokerPids.length > 0) roles.set('broker', brokerPids);
      const sampler = new RssSampler(measured);
      try {
        const disk = brokerPids.length > 0 ? new BrokerDiskMeter(brokerPids) : undefined;
        // Not for a system with its own broker: the RabbitMQ node then does nothing of its work.
        const reductions = system.brokerPids ? undefined : ctx.broker.reductions;
        const reductionsBefore = await reductions?.();
        const before = snapshot(roles);
        const ticksBefore = cpuTicks();
        const selfBefore = process.cpuUsage();
        const result = await unlessFailed<LoadResult | ApiLoadResult>(
          api
            ? viaApi(runId, v.tasks)
            : load.run(loadSpec(runId, v, v.tasks, v.window, route, system.queue)),
          system.failed,
        );
        const self = process.cpuUsage(selfBefore);
        const used = delta(before, snapshot(roles));
        row.stealPct = round(stealPercent(ticksBefore, cpuTicks()), 1);
        if (disk) row.brokerDisk = await disk.stop(v.tasks);
        if (reductions && reductionsBefore !== undefined)
          row.brokerReductions = Math.round(((await reductions()) - reductionsBefore) / v.tasks);
        // A process that died and was replaced (the pool restarts children) took its counters
        // with it, and the run did not measure the system as configured.
        const gone = [...measured].filter(([, pid]) => !alive(pid)).map(([role]) => role);
        if (gone.length > 0) throw new Error(`${gone.join(', ')} exited during the run`);
        Object.assign(row, figures(v, asRows(result), used, (self.user + self.system) / 1000));
        if ('submitsPerSec' in result)
          Object.assign(row, {
            submitsPerSec: round(result.submitsPerSec, 1),
            submitMs: round(result.submitMs, 1),
          });
      } finally {
        row.rssMiB = sampler.stop();
      }
      return row;
    } finally {
      await load.close();
    }
  } catch (err) {
    throw Object.assign(err as Error, { logFiles: system.logFiles });
  } finally {
    await system.stop();
  }
}
