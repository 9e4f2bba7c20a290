/**
 * `npm run bench:rate [-- CAP ...]`: what `rate_limit` costs and how high a cap one pool reaches
 * (bench/FINDINGS.md, "Rate limits"). One pool, K = 2 children (BENCH_RATE_K) of the `echo` plugin, prefetch 10,
 * on a private RabbitMQ node (or TASKQUEUE_AMQP_URL, whose CPU is then not measured). For each cap
 * (and once uncapped): 5 s idle, then a backlog published straight to `worker_echo`, results
 * counted as they come. Reported: the rate reached between the 10th and the 90th percentile of
 * the results, and the CPU the broker and the pool (with its children) spent, idle and per task.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, RESULTS_QUEUE, workerQueue } from './amqp.js';
import { openBroker } from './broker.js';
import { delta, snapshot, treeOf } from './proc-sampler.js';
import { killAllNow, Launched, stopAll, unlessFailed } from './processes.js';
import { TASKQUEUE_DIR, workerpoolSection } from './systems.js';

const TYPE = 'echo';
/** Children of the pool (BENCH_RATE_K, default 2). */
const K = Number(process.env.BENCH_RATE_K ?? 2);
const W = 10;
const IDLE_MS = 5000;
const TOKENS = `taskqueue.rate.${TYPE}.tokens`;
const DEFAULT_CAPS = [100, 500, 1000, 2000, 4000, 8000];

interface Row {
  cap: string;
  tasks: number;
  rate: number;
  idleBrokerPct: number;
  idlePoolPct: number;
  brokerMsPerTask: number;
  poolMsPerTask: number;
}

function config(url: string, cap: number | undefined): string {
  return `[amqp]
url = ${url}
connect_retries = 5

${workerpoolSection()}
[${TYPE}]
workers = ${K}
prefetch = ${W}
${cap === undefined ? '' : `rate_limit = ${cap}\n`}`;
}

async function resetQueues(url: string): Promise<void> {
  const model = await connect(url, 'bench-rate-admin');
  try {
    const channel = await model.createChannel();
    for (const q of [workerQueue(TYPE), `${workerQueue(TYPE)}.dead`, RESULTS_QUEUE, TOKENS])
      await channel.deleteQueue(q);
    await channel.assertQueue(RESULTS_QUEUE, { durable: true });
    await channel.close();
  } finally {
    await model.close();
  }
}

/**
 * Until `queue` has `count` consumers; a channel a check, since checking a queue the pool has not
 * declared yet closes the channel it ran on.
 */
async function untilConsumers(url: string, queue: string, count: number): Promise<void> {
  const model = await connect(url, 'bench-rate-ready');
  model.on('error', () => {});
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      const channel = await model.createChannel();
      channel.on('error', () => {});
      const consumers = await channel.checkQueue(queue).then(
        (ok) => ok.consumerCount,
        () => 0,
      );
      await channel.close().catch(() => {});
      if (consumers >= count) return;
      if (Date.now() > deadline) throw new Error(`${queue}: ${consumers}/${count} consumers`);
      await sleep(200);
    }
  } finally {
    await model.close().catch(() => {});
  }
}

/** Publishes `count` tasks to worker_echo (at most 1000 unconfirmed) and times their results. */
async function backlog(url: string, count: number): Promise<number[]> {
  const model = await connect(url, 'bench-rate-load');
  model.on('error', () => {});
  try {
    const results = await model.createChannel();
    await results.prefetch(1000);
    const arrivals: number[] = [];
    const done = new Promise<void>((resolve, reject) => {
      let quiet = setTimeout(() => reject(new Error('no result for 30 s')), 30_000);
      void results.consume(
        RESULTS_QUEUE,
        (m) => {
          if (!m) return;
          arrivals.push(Date.now());
          results.ack(m);
          clearTimeout(quiet);
          if (arrivals.length >= count) resolve();
          else quiet = setTimeout(() => reject(new Error('no result for 30 s')), 30_000);
        },
        { noAck: false },
      );
    });
    const publisher = await model.createConfirmChannel();
    const body = Buffer.from(JSON.stringify({ fields: { params: { worker_type: TYPE } } }));
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < count; i++) {
      const p = new Promise<void>((resolve, reject) =>
        publisher.publish('', workerQueue(TYPE), body, { persistent: true }, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      if (inFlight.size >= 1000) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await done;
    return arrivals;
  } finally {
    await model.close().catch(() => {});
  }
}

async function runCase(url: string, pids: () => number[], cap: number | undefined): Promise<Row> {
  await resetQueues(url);
  const dir = mkdtempSync(join(tmpdir(), 'bench-rate-'));
  const file = join(dir, 'config.ini');
  writeFileSync(file, config(url, cap));
  const env: NodeJS.ProcessEnv = { ...process.env, TASKQUEUE_LOG_PRETTY: '0' };
  delete env.TASKQUEUE_AMQP_URL;
  const pool = new Launched(
    'pool',
    process.execPath,
    [join(TASKQUEUE_DIR, 'dist/workerpool/main.js'), '-c', file],
    join(dir, 'pool.log'),
    env,
  );
  const failed = pool.exited.then(({ code, signal }) => {
    throw new Error(`pool exited (${signal ?? code}); see ${pool.logFile}`);
  });
  failed.catch(() => {});
  try {
    await unlessFailed(
      untilConsumers(url, cap === undefined ? workerQueue(TYPE) : TOKENS, K),
      failed,
    );
    // The shares settle within a recount, and an idle type's children stop minting in a second.
    await sleep(3000);
    const roles = () =>
      new Map([
        ['broker', pids()],
        ['pool', treeOf(pool.pid)],
      ]);
    const idleBefore = snapshot(roles());
    await sleep(IDLE_MS);
    const idle = delta(idleBefore, snapshot(roles()));
    const tasks = cap === undefined ? 40_000 : Math.min(40_000, Math.max(2000, cap * 10));
    const before = snapshot(roles());
    const arrivals = await backlog(url, tasks);
    const run = delta(before, snapshot(roles()));
    const lo = arrivals[Math.floor(tasks * 0.1)]!;
    const hi = arrivals[Math.floor(tasks * 0.9)]!;
    const rate = (Math.floor(tasks * 0.9) - Math.floor(tasks * 0.1)) / ((hi - lo) / 1000);
    return {
      cap: cap === undefined ? 'none' : String(cap),
      tasks,
      rate,
      idleBrokerPct: ((idle.broker?.cpuMs ?? 0) / IDLE_MS) * 100,
      idlePoolPct: ((idle.pool?.cpuMs ?? 0) / IDLE_MS) * 100,
      brokerMsPerTask: (run.broker?.cpuMs ?? 0) / tasks,
      poolMsPerTask: (run.pool?.cpuMs ?? 0) / tasks,
    };
  } finally {
    await pool.stop();
  }
}

async function main(): Promise<void> {
  const caps = process.argv.slice(2).map(Number);
  const list = caps.length > 0 ? caps : DEFAULT_CAPS;
  const log = (line: string) => process.stderr.write(`[bench:rate] ${line}\n`);
  const broker = await openBroker(log);
  const rows: Row[] = [];
  try {
    log(`broker: ${broker.description}`);
    for (const cap of [undefined, ...list]) {
      log(`case rate_limit = ${cap ?? 'none'}`);
      rows.push(await runCase(broker.url, () => broker.pids(), cap));
      log(JSON.stringify(rows.at(-1)));
    }
  } finally {
    await stopAll();
    await broker.close();
  }
  console.log(
    '| rate_limit | tasks | reached /s | idle broker CPU % | idle pool CPU % | broker CPU ms/task | pool CPU ms/task |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows)
    console.log(
      `| ${r.cap} | ${r.tasks} | ${r.rate.toFixed(0)} | ${r.idleBrokerPct.toFixed(1)} | ${r.idlePoolPct.toFixed(1)} | ${r.brokerMsPerTask.toFixed(3)} | ${r.poolMsPerTask.toFixed(3)} |`,
    );
}

main().catch((err: unknown) => {
  killAllNow();
  console.error(err);
  process.exit(1);
});
