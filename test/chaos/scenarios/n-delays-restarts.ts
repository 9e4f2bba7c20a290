import type { ConsumeMessage } from 'amqplib';
import { NOT_BEFORE_HEADER } from '../../../src/common/amqp/wire.js';
import type { Harness, Scenario } from '../harness/harness.js';
import { resultBody, some } from '../harness/results.js';
import { numberedTask, type Outgoing } from '../harness/tasks.js';
import { sleep } from '../harness/util.js';

const TASKS = 1000;
const MIN_DELAY_MS = 1_000;
const MAX_DELAY_MS = 60_000;
const WORKERS = 4;
/** When the broker is stopped (after the tasks were sent), and for how long. */
const BROKER_STOP_AT_MS = 15_000;
const BROKER_DOWN_MS = 5_000;
/** When the pool is killed (kill -9) and a new one started. */
const POOL_KILL_AT_MS = 35_000;
/**
 * The lateness allowed to a task that came due while nothing was being restarted: the bound
 * docs/delays.md documents (about three times the largest lateness measured, on quorum queues;
 * bench/FINDINGS.md).
 */
export const LATENESS_BOUND_MS = 1_500;
/**
 * A fault delays the tasks due after it began: a task whose level of the ladder ran out while
 * the broker was down leaves that level when the broker is back, and goes on from there (the
 * rest of its schedule shifted by up to the time the broker was down); a task due while no pool
 * ran waits for one. Each fault that began before a task was due (from this long before it
 * began) adds its length and this margin to the task's allowed lateness.
 */
const FAULT_MARGIN_MS = 5_000;

/**
 * (n) Issue 30: 1 000 tasks published to the input queue with not-before 1 s to 60 s ahead wait
 * in the broker's delay ladder while the broker is stopped and started again and the pool is
 * killed and started again. Every task must be answered (at least once, none lost), start no
 * earlier than its due time (the stamp plugin reads the clock first thing) and, outside the
 * faults, at most LATENESS_BOUND_MS after it. Lateness is reported (p50/p99/max) on stderr.
 * faults = the broker stop and the pool kill.
 */
export function delaysScenario(name: string, queueType: 'classic' | 'quorum'): Scenario {
  return {
    name,
    title: `${TASKS} tasks delayed 1-60 s on ${queueType} queues; broker and pool restarts during the wait`,
    limitMs: 300_000,
    run: (h) => run(h, queueType),
  };
}

export const scenario = delaysScenario('n-delays-restarts', 'classic');

async function run(h: Harness, queueType: 'classic' | 'quorum'): Promise<void> {
  const broker = await h.broker();
  const node = broker.nodes[0]!;
  const fleet = h.fleet({
    urls: broker.urls,
    queueType,
    enabled: ['stamp'],
    sections: `[stamp]\nworkers = ${WORKERS}\n`,
  });
  await fleet.dispatcher();
  const firstPool = await fleet.pool('stamp', WORKERS);
  const due = new Map<number, number>();
  const lateness = new Map<number, number>();
  const problems: string[] = [];
  const collector = await h.collect(broker.urls, {
    onFirst: (n, { queue, message }) => {
      const late = latenessOf(n, queue, message, due, problems);
      if (late !== undefined) lateness.set(n, late);
    },
  });
  const start = Date.now();
  h.publish(broker.urls, delayedTasks(start, due));

  const faults: Array<{ what: string; from: number; to: number }> = [];
  await sleep(Math.max(0, start + BROKER_STOP_AT_MS - Date.now()), h.signal);
  const brokerFrom = Date.now();
  await node.halt();
  h.faults++;
  h.say(`broker stopped at ${collector.distinct} results; down for ${BROKER_DOWN_MS / 1000} s`);
  await sleep(BROKER_DOWN_MS, h.signal);
  await node.resume();
  faults.push({ what: 'broker restart', from: brokerFrom, to: Date.now() });
  h.say('broker started again');

  await sleep(Math.max(0, start + POOL_KILL_AT_MS - Date.now()), h.signal);
  const poolFrom = Date.now();
  await fleet.kill(firstPool);
  h.faults++;
  h.say(`pool killed at ${collector.distinct} results; starting another`);
  await fleet.pool('stamp', WORKERS);
  faults.push({ what: 'pool restart', from: poolFrom, to: Date.now() });
  h.say('pool running again');

  await h.settle({ quietMs: 45_000, maxMs: 240_000 });
  if (problems.length > 0) h.fail(`${problems.length} wrong result(s): ${some(problems, 5)}`);
  report(h, due, lateness, faults);
}

/** Tasks 0 … TASKS-1, task n due MIN_DELAY_MS … MAX_DELAY_MS after `start`, spread evenly. */
function delayedTasks(start: number, due: Map<number, number>): Outgoing[] {
  return Array.from({ length: TASKS }, (_, n) => {
    const task = numberedTask(n, 'stamp');
    const at = start + MIN_DELAY_MS + Math.round(((MAX_DELAY_MS - MIN_DELAY_MS) * n) / (TASKS - 1));
    due.set(n, at);
    task.options.headers = { [NOT_BEFORE_HEADER]: new Date(at).toISOString() };
    return task;
  });
}

/** How late task `n` started (ms), or undefined with the problem noted. */
function latenessOf(
  n: number,
  queue: string,
  message: ConsumeMessage,
  due: Map<number, number>,
  problems: string[],
): number | undefined {
  if (queue !== 'results') {
    problems.push(`task ${n} arrived on ${queue}`);
    return undefined;
  }
  const body = resultBody(message);
  const started = body?.fields.started_at;
  if (body?.error !== undefined || typeof started !== 'number') {
    problems.push(`task ${n}: ${body?.error ?? 'no started_at in its result'}`);
    return undefined;
  }
  const late = started - (due.get(n) as number);
  if (late < 0) problems.push(`task ${n} started ${-late} ms before it was due`);
  return late;
}

function report(
  h: Harness,
  due: Map<number, number>,
  lateness: Map<number, number>,
  faults: Array<{ what: string; from: number; to: number }>,
): void {
  const calm: number[] = [];
  const after: number[] = [];
  for (const [n, late] of lateness) {
    const at = due.get(n) as number;
    const before = faults.filter((f) => f.from - FAULT_MARGIN_MS <= at);
    const allowed =
      LATENESS_BOUND_MS + before.reduce((sum, f) => sum + f.to - f.from + FAULT_MARGIN_MS, 0);
    (before.length === 0 ? calm : after).push(late);
    if (late > allowed) {
      const what = before.map((f) => f.what).join(' and ') || 'no fault';
      h.fail(`task ${n} started ${late} ms after it was due (allowed ${allowed} ms: ${what})`);
    }
  }
  for (const f of faults) h.say(`${f.what}: ${((f.to - f.from) / 1000).toFixed(1)} s`);
  const figures = `due before the faults (${calm.length} tasks): ${percentiles(calm)}; due after a fault began (${after.length} tasks): ${percentiles(after)}`;
  h.say(`lateness: ${figures}`);
  h.note(`lateness: ${figures}`);
}

function percentiles(values: number[]): string {
  if (values.length === 0) return 'none';
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `min ${sorted[0]} ms, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${sorted.at(-1)} ms`;
}
