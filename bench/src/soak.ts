/**
 * The soak: taskqueue alone, paced at half its capacity for a long time, to see whether the
 * dispatcher, the pool or a child grows. RSS is printed every minute (every 10 s for a soak
 * under 5 minutes); growth is counted from the end of the warm-up to the end (soak-growth.ts),
 * and, for comparison, from the end of the first minute.
 */
import { INPUT_QUEUE } from './amqp.js';
import { resetQueues } from './broker.js';
import { Load } from './load.js';
import type { Options } from './options.js';
import { memory } from './proc-sampler.js';
import { unlessFailed } from './processes.js';
import type { ResultsFile } from './results.js';
import { type BenchContext, measure } from './run.js';
import { FIRST_MINUTE_S, type Sample, soakGrowth, warmupSeconds } from './soak-growth.js';
import { percentile, round } from './stats.js';
import { startTaskqueue } from './systems.js';
import type { Variant } from './variants.js';
import { TYPE } from './workitem.js';

const CAPACITY_TASKS = 5000;

/** The broker's main process: the biggest of its tree (beam.smp, not the shell around it). */
function brokerMainPid(pids: number[]): number | undefined {
  let best: { pid: number; rss: number } | undefined;
  for (const pid of pids) {
    const rss = memory(pid)?.rssKiB ?? 0;
    if (!best || rss > best.rss) best = { pid, rss };
  }
  return best?.pid;
}

function rssNow(roles: Map<string, number>): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [role, pid] of roles) {
    const m = memory(pid);
    out[role] = m ? round(m.rssKiB / 1024, 1) : null;
  }
  return out;
}

const show = (rss: Record<string, number | null>) =>
  Object.entries(rss)
    .map(([role, mib]) => `${role} ${mib === null ? 'gone' : mib.toFixed(1)}`)
    .join(', ');

async function capacity(ctx: BenchContext, v: Variant): Promise<number> {
  const probe = { ...v, tasks: Math.min(v.tasks, CAPACITY_TASKS), rounds: 1 };
  ctx.log(`measuring capacity: ${probe.tasks} tasks through taskqueue (${v.name})`);
  const row = await measure(ctx, probe, 'taskqueue', 0);
  ctx.log(`capacity ${row.tasksPerSec!.toFixed(0)} tasks/s`);
  return row.tasksPerSec!;
}

export async function runSoak(
  ctx: BenchContext,
  v: Variant,
  seconds: number,
  options: Pick<Options, 'rate' | 'warmupSeconds'>,
  results: ResultsFile,
): Promise<boolean> {
  const warmupS = warmupSeconds(seconds, options.warmupSeconds);
  const rate = options.rate ?? round((await capacity(ctx, v)) / 2, 1);
  const everyS = seconds < 300 ? 10 : 60;
  const count = Math.max(1, Math.round(rate * seconds));
  ctx.log(
    `\nsoak: ${seconds} s at ${rate} tasks/s (${count} tasks), K=${v.k} W=${v.w}, ` +
      `RSS MiB every ${everyS} s, warm-up ${warmupS} s`,
  );
  const url = ctx.broker.url;
  await resetQueues(url, TYPE, v.queueType ?? 'classic');
  const system = await startTaskqueue({ url, workDir: ctx.workDir, runId: 'soak' }, v);
  const roles = new Map(system.roles);
  const brokerPid = brokerMainPid(ctx.broker.pids());
  if (brokerPid !== undefined) roles.set('broker', brokerPid);
  const samples: Sample[] = [];
  let interval: number[] = [];
  let done = 0;
  const t0 = performance.now();
  let lastReport = t0;
  const report = () => {
    const now = performance.now();
    const atS = round((now - t0) / 1000, 1);
    const sample = { atS, rssMiB: rssNow(roles) };
    samples.push(sample);
    const lat = Float64Array.from(interval).sort();
    const rateNow = (interval.length * 1000) / Math.max(1, now - lastReport);
    lastReport = now;
    interval = [];
    ctx.log(
      `t=${atS.toFixed(0).padStart(5)} s  done ${String(done).padStart(8)}  ` +
        `${rateNow.toFixed(0).padStart(5)}/s  p50 ${percentile(lat, 50).toFixed(2)} ` +
        `p99 ${percentile(lat, 99).toFixed(2)} ms | RSS MiB ${show(sample.rssMiB)}`,
    );
    results.write({ type: 'soak-sample', ...sample, done, rate: rateNow });
  };
  const timer = setInterval(report, everyS * 1000);
  let ok = true;
  try {
    const load = await Load.open(url);
    try {
      const result = await unlessFailed(
        load.run({
          run: 'soak',
          count,
          window: v.window,
          payloadBytes: v.payloadBytes,
          queue: INPUT_QUEUE,
          ratePerSec: rate,
          stallMs: 30_000,
          deadlineMs: seconds * 1000 + 120_000,
          keepLatencies: false,
          onResult: (latency) => {
            done++;
            interval.push(latency);
          },
        }),
        system.failed,
      );
      if (result.behindMs > 1000)
        ctx.log(`the publisher ended ${result.behindMs.toFixed(0)} ms behind its schedule`);
    } finally {
      await load.close();
    }
  } catch (err) {
    if (!ctx.interrupted()) ctx.log(`soak FAILED: ${(err as Error).message}`);
    ok = false;
  } finally {
    clearInterval(timer);
    // The last interval's figures, unless the timer has just printed them.
    if (performance.now() - lastReport > 1000) report();
    await system.stop();
  }
  const growth = soakGrowth(samples, warmupS);
  // Also from the first minute: what the growth was before V8's heaps settled (soak-growth.ts).
  const early =
    warmupS > FIRST_MINUTE_S
      ? soakGrowth(samples, FIRST_MINUTE_S, 'for comparison, after the first minute')
      : undefined;
  if (growth) {
    ctx.log(`\n${growth.lines.join('\n')}`);
    if (early) ctx.log(`\n${early.lines.join('\n')}`);
    const { endToEndMiB, steadyMiB } = growth;
    results.write({
      type: 'soak-summary',
      rate,
      seconds,
      warmupS,
      endToEndMiB,
      steadyMiB,
      fromFirstMinute: early && { endToEndMiB: early.endToEndMiB, steadyMiB: early.steadyMiB },
      ok,
    });
  }
  return ok;
}
