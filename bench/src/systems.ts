/**
 * The systems under test, started fresh for every run and identified by role: the ceiling
 * (relay + K bench workers), taskqueue (the real dispatcher and pool, with the echo plugin), and
 * the anchors (anchors/*.ts: the one-hop limit, Celery, BullMQ).
 */

import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INPUT_QUEUE, TRACKER_QUEUE, workerQueue } from './amqp.js';
import { startBullmq } from './anchors/bullmq.js';
import { startCelery } from './anchors/celery.js';
import { waitForConsumers } from './broker.js';
import type { Load } from './load.js';
import { type MetricsSetup, metricsOn, metricsSetup, scrapeEverySecond } from './metrics-scrape.js';
import { childrenOf, commandLine } from './proc-sampler.js';
import { adopt, Launched, releaseAdopted } from './processes.js';
import type { SystemKind } from './system-kinds.js';
import type { Variant } from './variants.js';
import { TYPE } from './workitem.js';

export type { SystemKind } from './system-kinds.js';

export interface System {
  kind: SystemKind;
  /** role → PID: relay, worker1..K / dispatcher, pool, child1..K. */
  roles: Map<string, number>;
  /** Rejects as soon as one of its processes exits before stop(). */
  failed: Promise<never>;
  /** Where the processes' output went (shown when a run fails). */
  logFiles: string[];
  stop(): Promise<void>;
  /** The -api variants: where taskqueue-api listens and the operate token it accepts. */
  api?: { base: string; token: string };
  /** The queue the load publishes to, when not the variant's (Celery consumes `worker_<type>`). */
  queue?: string;
  /** The load of a system that speaks otherwise (Celery's framing, BullMQ's Redis). */
  openLoad?: () => Promise<Load>;
  /** Its broker's processes, when not the RabbitMQ node (BullMQ's redis-server). */
  brokerPids?: () => number[];
  /** Roles that exist only once tasks ran (BullMQ forks its sandboxes on demand). */
  rolesAfterWarmUp?: () => Map<string, number>;
}

export interface SystemContext {
  url: string;
  /** Configs and logs of this bench invocation. */
  workDir: string;
  runId: string;
}

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const ROOT = resolve(HERE, '../..');
/**
 * The taskqueue under test: this checkout, or BENCH_TASKQUEUE_DIR (another build with its dist/
 * and node_modules/, e.g. a patched copy) to compare two versions against the same ceiling.
 */
export const TASKQUEUE_DIR = resolve(process.env.BENCH_TASKQUEUE_DIR ?? ROOT);
const READY_TIMEOUT_MS = 60_000;
/** What identifies a taskqueue worker child in /proc/PID/cmdline. */
const CHILD_ENTRY = 'workerpool/child/main.js';

/**
 * The environment of every process under test. BENCH_NODE_OPTIONS becomes their NODE_OPTIONS
 * (the pool's children inherit it); BENCH_PROFILE_DIR adds the CPU profiler (cpu-profile.ts).
 */
export function environment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TASKQUEUE_LOG_PRETTY: '0' };
  delete env.TASKQUEUE_AMQP_URL; // the config names the broker
  const nodeOptions = [process.env.NODE_OPTIONS ?? '', process.env.BENCH_NODE_OPTIONS ?? ''];
  if (process.env.BENCH_PROFILE_DIR)
    nodeOptions.push(`--import=${new URL('./cpu-profile.js', import.meta.url).href}`);
  const joined = nodeOptions.join(' ').trim();
  if (joined) env.NODE_OPTIONS = joined;
  return env;
}

export function launch(
  ctx: SystemContext,
  role: string,
  args: string[],
  env: NodeJS.ProcessEnv = environment(),
  program: string = process.execPath,
): Launched {
  const log = join(ctx.workDir, `${ctx.runId}.${role}.log`);
  return new Launched(role, program, args, log, env);
}

/**
 * The environment of a taskqueue program as its systemd unit gives it: the unit's
 * `Environment=NODE_OPTIONS=…` (V8 flags that belong to the product) before the bench's own.
 */
export function unitEnvironment(unit: string, dropIn = ''): NodeJS.ProcessEnv {
  const env = environment();
  const text = readFileSync(join(TASKQUEUE_DIR, 'systemd', unit), 'utf8');
  const fromUnit = /^Environment=NODE_OPTIONS=(.*)$/m.exec(text)?.[1]?.trim();
  // A drop-in's NODE_OPTIONS replaces the unit's; its V8 flags come last here, and the last wins.
  const options = `${fromUnit ?? ''} ${dropIn} ${env.NODE_OPTIONS ?? ''}`.trim();
  if (options) env.NODE_OPTIONS = options;
  return env;
}

/**
 * The dispatcher's drop-in for large tasks (docs/configuration.md): a larger cap on its young
 * generation. Only the cap: Node refuses `--min-semi-space-size` in NODE_OPTIONS.
 */
function semiSpaceDropIn(v: Variant): string {
  return v.semiSpaceMiB ? `--max-semi-space-size=${v.semiSpaceMiB}` : '';
}

/** A promise that rejects when any of `processes` exits while `running()` still holds. */
export function failureOf(processes: Launched[], running: () => boolean): Promise<never> {
  const failed = new Promise<never>((_, reject) => {
    for (const p of processes) {
      void p.exited.then(({ code, signal }) => {
        if (running()) reject(new Error(`${p.name} exited (${signal ?? code}); see ${p.logFile}`));
      });
    }
  });
  failed.catch(() => {}); // observed through Promise.race where it matters
  return failed;
}

/** What the ceiling and taskqueue have started: the input queue's and the worker queue's consumers. */
function relayed(expectedChildren: number, extra: Record<string, number> = {}) {
  return { [INPUT_QUEUE]: 1, [workerQueue(TYPE)]: expectedChildren, ...extra };
}

/**
 * Watches `processes` and waits until each queue of `consumers` has that many; stops them all if
 * that does not happen (an empty `consumers`: started as soon as launched, the caller checks).
 */
export async function started(
  ctx: SystemContext,
  kind: SystemKind,
  processes: Launched[],
  consumers: Record<string, number>,
): Promise<{ failed: Promise<never>; stop: () => Promise<void> }> {
  let running = true;
  const failed = failureOf(processes, () => running);
  const stop = async () => {
    running = false;
    await Promise.all(processes.map((p) => p.stop()));
    releaseAdopted();
  };
  try {
    await waitForConsumers(ctx.url, consumers, READY_TIMEOUT_MS, failed);
  } catch (err) {
    await stop();
    throw new Error(`${kind} did not start: ${(err as Error).message}`);
  }
  return { failed, stop };
}

export async function startCeiling(ctx: SystemContext, v: Variant): Promise<System> {
  const dist = HERE;
  const relay = launch(ctx, 'relay', [
    join(dist, 'ceiling-relay.js'),
    ctx.url,
    `${v.relayPrefetch}`,
    v.queueType ?? 'classic',
  ]);
  const workers = Array.from({ length: v.k }, (_, i) =>
    launch(ctx, `worker${i + 1}`, [
      join(dist, 'ceiling-worker.js'),
      ctx.url,
      `${v.w}`,
      TYPE,
      v.queueType ?? 'classic',
    ]),
  );
  const all = [relay, ...workers];
  const { failed, stop } = await started(ctx, 'ceiling', all, relayed(v.k));
  return {
    kind: 'ceiling',
    roles: new Map(all.map((p) => [p.name, p.pid])),
    failed,
    logFiles: all.map((p) => p.logFile),
    stop,
  };
}

/**
 * The `[workerpool]` section every bench config gives the pool: the checkout's plugins (the echo
 * plugin), the bench's type only, `extra` lines first (the metrics listener).
 */
export function workerpoolSection(extra = ''): string {
  return `[workerpool]
${extra}plugin_paths = ${join(TASKQUEUE_DIR, 'node_modules')}
enabled = ${TYPE}
shutdown_timeout = 10
log_level = info
`;
}

function taskqueueConfig(
  url: string,
  v: Variant,
  metrics: MetricsSetup | undefined,
  api: string,
): string {
  return `[amqp]
url = ${url}
connect_retries = 5
queue_type = ${v.queueType ?? 'classic'}

[dispatcher]
prefetch = ${v.relayPrefetch}
${metrics?.dispatcher ?? ''}
${workerpoolSection(metrics?.workerpool)}
[${TYPE}]
workers = ${v.k}
prefetch = ${v.inHand ?? v.w}
${v.inHand ? `concurrency = ${v.w}\n` : ''}${v.semiSpaceMiB ? `semi_space_size = ${v.semiSpaceMiB}M\n` : ''}${v.tracking ? '\n[tracking]\nenabled = yes\n' : ''}${api}`;
}

export async function startTaskqueue(ctx: SystemContext, v: Variant): Promise<System> {
  const config = join(ctx.workDir, `${ctx.runId}.ini`);
  const metrics = metricsOn() ? await metricsSetup(ctx.workDir, ctx.runId) : undefined;
  const api = v.apiClients ? apiSetup(ctx) : undefined;
  writeFileSync(config, taskqueueConfig(ctx.url, v, metrics, api?.section ?? ''));
  const dispatcher = launch(
    ctx,
    'dispatcher',
    [join(TASKQUEUE_DIR, 'dist/dispatcher/main.js'), '-c', config],
    unitEnvironment('taskqueue-dispatcher.service', semiSpaceDropIn(v)),
  );
  const pool = launch(
    ctx,
    'pool',
    [join(TASKQUEUE_DIR, 'dist/workerpool/main.js'), '-c', config],
    unitEnvironment('taskqueue-workerpool.service'),
  );
  // The -api variants: the tracker is the one inside taskqueue-api, with its real store.
  const tracker = api
    ? launch(
        ctx,
        'api',
        [join(TASKQUEUE_DIR, 'dist/api/main.js'), '-c', config],
        unitEnvironment('taskqueue-api.service'),
      )
    : v.tracking
      ? launch(ctx, 'tracker', [
          join(HERE, 'tracker-sink.js'),
          ctx.url,
          TASKQUEUE_DIR,
          v.queueType ?? 'classic',
        ])
      : undefined;
  const launched = tracker ? [dispatcher, pool, tracker] : [dispatcher, pool];
  const { failed, stop: stopProcesses } = await started(
    ctx,
    'taskqueue',
    launched,
    relayed(v.k, tracker ? { [TRACKER_QUEUE]: 1 } : {}),
  );
  const stopScraping = metrics && scrapeEverySecond(metrics);
  const stop = async () => {
    const scrapes = await stopScraping?.();
    if (scrapes === 0) throw new Error('taskqueue: metrics on, but no scrape answered');
    await stopProcesses();
  };
  const children = childrenOf(pool.pid)
    .filter((pid) => commandLine(pid).includes(CHILD_ENTRY))
    .sort((a, b) => a - b);
  for (const pid of children) adopt(pid, CHILD_ENTRY);
  if (api) {
    try {
      await untilAnswering(api.base, failed);
    } catch (err) {
      await stop();
      throw err;
    }
  }
  if (children.length !== v.k) {
    await stop();
    throw new Error(`taskqueue: ${children.length} children under the pool, expected ${v.k}`);
  }
  return {
    kind: 'taskqueue',
    roles: new Map([
      ['dispatcher', dispatcher.pid],
      ['pool', pool.pid],
      ...(tracker ? [[tracker.name, tracker.pid] as [string, number]] : []),
      ...children.map((pid, i) => [`child${i + 1}`, pid] as [string, number]),
    ]),
    failed,
    logFiles: launched.map((p) => p.logFile),
    stop,
    ...(api ? { api: { base: api.base, token: api.token } } : {}),
  };
}

/**
 * The one-hop limit: the load publishes to the types exchange (bound to `worker_<type>` by the
 * run, run.ts directRoute) and K ceiling workers answer; no relay, no dispatcher. What a
 * system with taskqueue's guarantees costs at the least when the client knows the type.
 */
export async function startOnehop(ctx: SystemContext, v: Variant): Promise<System> {
  const workers = Array.from({ length: v.k }, (_, i) =>
    launch(ctx, `worker${i + 1}`, [
      join(HERE, 'ceiling-worker.js'),
      ctx.url,
      `${v.w}`,
      TYPE,
      v.queueType ?? 'classic',
    ]),
  );
  const { failed, stop } = await started(ctx, 'onehop', workers, { [workerQueue(TYPE)]: v.k });
  return {
    kind: 'onehop',
    roles: new Map(workers.map((p) => [p.name, p.pid])),
    failed,
    logFiles: workers.map((p) => p.logFile),
    stop,
  };
}

/**
 * The [api] section of an -api variant: a port picked at random in 40000–60000, a tokens file
 * of mode 0600 with one operate token, a fresh SQLite store in the work directory.
 */
function apiSetup(ctx: SystemContext): { section: string; base: string; token: string } {
  const port = 40_000 + Math.floor(Math.random() * 20_000);
  const token = randomBytes(24).toString('hex');
  const tokens = join(ctx.workDir, `${ctx.runId}.api.tokens`);
  writeFileSync(tokens, `bench operate ${token}\n`, { mode: 0o600 });
  chmodSync(tokens, 0o600);
  const store = join(ctx.workDir, `${ctx.runId}.tasks.db`);
  return {
    section: `\n[api]\nlisten = 127.0.0.1:${port}\ntokens_file = ${tokens}\nstore = ${store}\n`,
    base: `http://127.0.0.1:${port}`,
    token,
  };
}

/** Until the API answers a read (its store open, listening); `failed` ends it early. */
async function untilAnswering(base: string, failed: Promise<never>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const answered = await Promise.race([
      fetch(`${base}/openapi.json`).then(
        (r) => r.status < 500,
        () => false,
      ),
      failed,
    ]);
    if (answered) return;
    if (Date.now() > deadline) throw new Error(`taskqueue-api did not answer at ${base}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export function startSystem(kind: SystemKind, ctx: SystemContext, v: Variant): Promise<System> {
  switch (kind) {
    case 'ceiling':
      return startCeiling(ctx, v);
    case 'taskqueue':
      return startTaskqueue(ctx, v);
    case 'onehop':
      return startOnehop(ctx, v);
    case 'celery':
      return startCelery(ctx, v);
    case 'bullmq-everysec':
      return startBullmq(ctx, v, 'everysec');
    case 'bullmq-always':
      return startBullmq(ctx, v, 'always');
  }
}
