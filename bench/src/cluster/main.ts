/**
 * `npm run bench:cluster`: taskqueue on several "hosts" (network namespaces of this machine), a
 * RabbitMQ cluster of one node per host with quorum queues on every node, the dispatcher and the
 * pool on each host, the load spread over the nodes; throughput as the cluster grows from one
 * host to three, broker CPU per task per node, and what the dispatcher's hop costs.
 * See bench/README.md (Several hosts) and docs/capacity.md.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForConsumers } from '../broker.js';
import { delta, snapshot } from '../proc-sampler.js';
import { killAllNow, stopAll, unlessFailed } from '../processes.js';
import { ResultsFile } from '../results.js';
import { round } from '../stats.js';
import { TASKQUEUE_DIR } from '../systems.js';
import { ClusterNode } from './cluster-node.js';
import { findChildren, type HostPrograms, startHostPrograms } from './host-programs.js';
import { BRIDGE_ADDRESS, buildNetwork, type Host, tearDownNetwork } from './network.js';
import {
  type ClusterOptions,
  childrenOfHost,
  type PathName,
  parseClusterOptions,
  USAGE,
} from './options.js';
import { declareQueues, purgeQueues, TYPES_EXCHANGE, typesExchangeExists } from './queues.js';
import { SpreadLoad, type Target } from './spread-load.js';
import { type Row, summary } from './table.js';

const log = (line: string) => console.log(line);
const WARM_UP_TASKS = 500;
const STALL_MS = 30_000;
const READY_TIMEOUT_MS = 90_000;

let options: ClusterOptions;
try {
  const parsed = parseClusterOptions(process.argv.slice(2));
  if (!parsed) {
    console.log(USAGE);
    process.exit(0);
  }
  options = parsed;
} catch (err) {
  console.error(`${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
for (const program of ['dispatcher', 'workerpool']) {
  if (!existsSync(join(TASKQUEUE_DIR, `dist/${program}/main.js`))) {
    console.error(`${TASKQUEUE_DIR}/dist/${program}/main.js is missing: run npm run build first`);
    process.exit(1);
  }
}

const workDir = mkdtempSync(join(tmpdir(), 'tq-bench-cluster-'));
const nodes: ClusterNode[] = [];
let programs: HostPrograms[] = [];
let load: SpreadLoad | undefined;
let interrupted = false;
let hosts: Host[] = [];

async function stopPrograms(): Promise<void> {
  await load?.close();
  load = undefined;
  await stopAll();
  programs = [];
}

async function cleanup(): Promise<void> {
  await stopPrograms();
  // The joined nodes first, the seed last, as one takes a cluster down.
  for (const node of [...nodes].reverse()) await node.stop().catch((e: Error) => log(e.message));
  nodes.length = 0;
  tearDownNetwork(log);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      killAllNow();
      tearDownNetwork();
      process.exit(130);
    }
    interrupted = true;
    log(`\n${signal}: stopping everything the bench started (again: kill at once)`);
    void cleanup().finally(() => {
      log(`logs kept in ${workDir}`);
      process.exit(130);
    });
  });
}
// The last resort: whatever still runs in our namespaces is ours, killed by PID.
process.on('exit', () => {
  killAllNow();
  tearDownNetwork();
});

/** Busy jiffies and all jiffies of the whole machine (/proc/stat), for how loaded it was. */
function machineTicks(): { busy: number; all: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const f = line.split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const all = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: all - idle, all };
}

function roleMap(): Map<string, number[]> {
  const roles = new Map<string, number[]>();
  for (const node of nodes) roles.set(`broker.${node.host.ns}`, node.pids());
  for (const p of programs) {
    roles.set(`dispatcher.${p.host.ns}`, [p.dispatcher.pid]);
    roles.set(`workers.${p.host.ns}`, [p.pool.pid, ...p.children]);
  }
  roles.set('load', [process.pid]);
  return roles;
}

/**
 * Which node each host's programs are connected to: the cluster lists every connection with the
 * client's address and the server address it connected to (a host's node is its namespace's).
 */
async function connectionPlacement(
  node: ClusterNode,
): Promise<{ text: string; allLocal: boolean }> {
  const nameOf = (address: string) => hosts.find((h) => h.address === address)?.ns ?? address;
  const listed = await node.ctl([
    'list_connections',
    '--quiet',
    '--no-table-headers',
    'peer_host',
    'host',
  ]);
  const counts = new Map<string, number>();
  let allLocal = true;
  for (const line of listed.split('\n')) {
    const [peer, server] = line.trim().split(/\s+/);
    if (!peer || !server || peer === BRIDGE_ADDRESS) continue;
    if (peer !== server) allLocal = false;
    const key = `${nameOf(peer)} → ${nameOf(server)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const text = [...counts].map(([key, count]) => `${key} ×${count}`).join(', ');
  return { text, allLocal };
}

/** Starts taskqueue on every host; `failed` rejects when one of its programs exits. */
async function startStep(hosts: Host[], urls: string[]): Promise<{ failed: Promise<never> }> {
  const n = hosts.length;
  programs = hosts.map((host, i) => {
    // Its own node first, then the others in order: a host's programs prefer the local broker.
    const own = [urls[i]!, ...urls.filter((_, j) => j !== i)];
    return startHostPrograms(host, own, childrenOfHost(options, n, i), options.w, workDir, `h${n}`);
  });
  const failed = new Promise<never>((_, reject) => {
    for (const p of programs)
      for (const l of [p.dispatcher, p.pool])
        void l.exited.then(({ code, signal }) => {
          if (!interrupted && programs.length)
            reject(new Error(`${l.name} exited (${signal ?? code}); see ${l.logFile}`));
        });
  });
  failed.catch(() => {});
  const kTotal = hosts.reduce((sum, _, i) => sum + childrenOfHost(options, n, i), 0);
  await waitForConsumers(urls[0]!, { taskqueue: n, worker_echo: kTotal }, READY_TIMEOUT_MS, failed);
  for (const p of programs) findChildren(p);
  // Wrapped: an async function returning the promise itself would wait for it to settle.
  return { failed };
}

async function measure(
  rows: Row[],
  results: ResultsFile,
  base: Omit<Row, 'type' | 'at' | 'path' | 'target' | 'round'>,
  path: PathName,
  target: Target,
  round_: number,
  failed: Promise<never>,
): Promise<void> {
  const targetName = target.exchange
    ? `${target.exchange}/${target.routingKey}`
    : target.routingKey;
  const row: Row = {
    type: 'run',
    at: new Date().toISOString(),
    ...base,
    path,
    target: targetName,
    round: round_,
  };
  const tasks = options.tasks;
  try {
    await purgeQueues(nodes[0]!.url);
    const roles = roleMap();
    const before = snapshot(roles);
    const ticks0 = machineTicks();
    const r = await unlessFailed(
      load!.run({
        run: `c${base.hosts}-${path}-${round_}-${randomBytes(3).toString('hex')}`,
        count: tasks,
        window: options.window,
        payloadBytes: options.payloadBytes,
        target,
        stallMs: STALL_MS,
      }),
      failed,
    );
    const ticks1 = machineTicks();
    const used = delta(before, snapshot(roles));
    const per = (prefix: string) =>
      Object.fromEntries(
        Object.entries(used)
          .filter(([role]) => role.startsWith(`${prefix}.`))
          .map(([role, c]) => [role.slice(prefix.length + 1), round(c.cpuMs / tasks, 3)]),
      );
    Object.assign(row, {
      tasksPerSec: round(r.tasksPerSec, 0),
      p50Ms: round(r.p50Ms, 1),
      p99Ms: round(r.p99Ms, 1),
      brokerMsPerTask: per('broker'),
      dispatcherMsPerTask: per('dispatcher'),
      workersMsPerTask: per('workers'),
      loadMsPerTask: round((used.load?.cpuMs ?? 0) / tasks, 3),
      oursCoresBusy: round(
        Object.values(used).reduce((total, c) => total + c.cpuMs, 0) / r.elapsedMs,
        2,
      ),
      machineCoresBusy: round(
        ((ticks1.busy - ticks0.busy) / (ticks1.all - ticks0.all)) * cpus().length,
        2,
      ),
      duplicates: r.duplicates,
    });
    log(
      `  ${base.hosts} host(s) ${path.padEnd(10)} round ${round_}: ${row.tasksPerSec} tasks/s, ` +
        `p50 ${row.p50Ms} ms, broker ms/task ${JSON.stringify(row.brokerMsPerTask)}, ` +
        `ours ${row.oursCoresBusy} of ${row.machineCoresBusy} busy cores`,
    );
  } catch (err) {
    row.error = (err as Error).message;
    log(`  ${base.hosts} host(s) ${path} round ${round_}: FAILED ${row.error}`);
  }
  rows.push(row);
  results.write(row);
}

const started = Date.now();
let ok = false;
try {
  const max = Math.max(...options.hosts);
  log(`taskqueue cluster bench: logs and configs in ${workDir}`);
  hosts = buildNetwork(max, log);
  const cookie = randomBytes(20).toString('hex').toUpperCase();
  const results = new ResultsFile('cluster', {
    taskqueue: TASKQUEUE_DIR,
    options,
    argv: process.argv.slice(2),
  });
  log(`raw rows: ${results.path}`);
  const rows: Row[] = [];
  for (const n of options.hosts) {
    if (interrupted) break;
    // Grow the cluster to n nodes: each new one starts alone and joins the first.
    while (nodes.length < n) {
      const node = new ClusterNode(hosts[nodes.length]!, workDir, cookie, options.busyWait, log);
      nodes.push(node);
      await node.start();
      if (nodes.length > 1) await node.join(nodes[0]!);
    }
    const urls = nodes.map((node) => node.url);
    const placements = await declareQueues(urls, (args) => nodes[0]!.ctl(args));
    log(
      `\n${n} host(s): quorum queues, leaders ${placements.map((p) => `${p.queue}@${p.leader} (${p.members} members)`).join(', ')}`,
    );
    // A first start declares what the programs declare themselves (the cancels stream, the delay
    // ladder) on every node. A program that connected while a new replica was still starting
    // fails over to the next URL and stays there: started again until each host's programs are
    // on its own node (or said so, after three tries).
    await startStep(hosts.slice(0, n), urls);
    let failed: Promise<never> | undefined;
    for (let attempt = 1; ; attempt++) {
      await stopPrograms();
      ({ failed } = await startStep(hosts.slice(0, n), urls));
      const placement = await connectionPlacement(nodes[0]!).catch((e: Error) => ({
        text: e.message,
        allLocal: false,
      }));
      log(`  connections (client host → node): ${placement.text}`);
      if (placement.allLocal || attempt === 3) break;
    }
    const direct: Target = (await typesExchangeExists((args) => nodes[0]!.ctl(args)))
      ? { exchange: TYPES_EXCHANGE, routingKey: 'echo' }
      : { exchange: '', routingKey: 'worker_echo' };
    const targets: Record<PathName, Target> = {
      dispatcher: { exchange: '', routingKey: 'taskqueue' },
      direct,
    };
    log(
      `  children per host ${programs.map((p) => p.children.length).join(', ')}, W=${options.w}; direct path: ` +
        (direct.exchange
          ? `${TYPES_EXCHANGE} key echo`
          : `worker_echo by the default exchange (no ${TYPES_EXCHANGE} in this build)`),
    );
    load = await SpreadLoad.open(urls);
    // Warm-up: JIT, connections, the queues' first segments; both paths.
    for (const path of options.paths)
      await unlessFailed(
        load.run({
          run: `warm-${n}-${path}`,
          count: WARM_UP_TASKS,
          window: Math.max(100, Math.min(options.window, WARM_UP_TASKS)),
          payloadBytes: options.payloadBytes,
          target: targets[path],
          stallMs: STALL_MS,
        }),
        failed,
      );
    const base = {
      hosts: n,
      childrenPerHost: programs.map((p) => p.children.length),
      w: options.w,
      tasks: options.tasks,
    };
    // Rounds interleave the paths (A B A B) so that the drift of a shared machine hits both.
    for (let r = 1; r <= options.rounds && !interrupted; r++)
      for (const path of options.paths)
        await measure(rows, results, base, path, targets[path], r, failed);
    await stopPrograms();
  }
  if (!interrupted) summary(rows, options.paths, log);
  ok = rows.length > 0 && rows.every((r) => !r.error);
} catch (err) {
  if (!interrupted) log(`cluster bench failed: ${(err as Error).stack ?? err}`);
} finally {
  if (!interrupted) {
    await cleanup();
    log(`\ntook ${((Date.now() - started) / 1000).toFixed(0)} s`);
    if (ok && !process.env.BENCH_KEEP_LOGS) rmSync(workDir, { recursive: true, force: true });
    else log(`logs kept in ${workDir}`);
    process.exitCode = ok ? 0 : 1;
  }
}
