import { afterEach, describe, expect, it } from 'vitest';
import { rateTokenQueue } from '../../src/common/amqp/queues.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import { childPids } from '../support/processes.js';
import { type Program, testConfig } from '../support/programs.js';
import { type Cleanup, startProgram } from '../support/scope.js';

/**
 * rate_limit (docs/rate-limits.md), on the real programs and broker: pools on one machine stand
 * for pools on several hosts, as they share nothing but the broker. The fixture plugin `stamp`
 * records when each task reached the plugin; each test has its own vhost.
 */

const TYPE = 'stamp';

interface Stamp {
  n: number;
  startedAt: number;
  pid: number;
}

function stampsOf(messages: Array<{ content: Buffer }>): Stamp[] {
  return messages
    .map((m) => {
      const fields = JSON.parse(m.content.toString()).fields as Record<string, number>;
      return { n: fields.n!, startedAt: fields.started_at!, pid: fields.pid! };
    })
    .sort((a, b) => a.startedAt - b.startedAt);
}

/** The pids of the children a pool started for `group` (its `child state` lines). */
function childPidsOf(pool: Program, group: string): Set<number> {
  return new Set(
    pool
      .logs()
      .filter((l) => l.msg === 'child state' && l.group === group)
      .map((l) => Number(l.childPid)),
  );
}

/** Publishes `count` tasks straight to `worker_<type>`, which the running pool declared. */
async function publishTasks(client: TestClient, count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, (_, n) =>
      client.publish(`worker_${TYPE}`, workitem(TYPE, { n }), { correlationId: `rate-${n}` }),
    ),
  );
}

describe('rate_limit', () => {
  const cleanups: Cleanup[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(label: string): Promise<{ url: string; client: TestClient }> {
    const url = await useVhost(label);
    const client = await TestClient.connect(url);
    cleanups.push(() => client.close());
    return { url, client };
  }

  function pool(url: string, section: string, queueType = 'classic'): Program {
    const text = testConfig(url, [TYPE], section).replace(
      '[amqp]\n',
      `[amqp]\nqueue_type = ${queueType}\n`,
    );
    return startProgram(text, (step) => cleanups.push(step));
  }

  it('two pools together start a capped type at its rate_limit (±10 %), tasks waiting in the broker', async () => {
    const { url, client } = await setUp('rate-two-pools');
    const RATE = 20;
    const TASKS = 400;
    const section = `[${TYPE}]\nworkers = 3\nprefetch = 2\nrate_limit = ${RATE}\nsleep_ms = 20\n`;
    const a = pool(url, section);
    const b = pool(url, section);
    await a.waitForRunning(TYPE, 3, 60_000);
    await b.waitForRunning(TYPE, 3, 60_000);
    // Every child mints a sixth of the rate once it counted the six consumers.
    await expect
      .poll(() => client.consumerCount(rateTokenQueue(TYPE)), { timeout: 20_000 })
      .toBe(6);
    await publishTasks(client, TASKS);
    // 400 tasks at 20 a second take 20 s: after 5 s most of them still wait in worker_stamp, not
    // in the children (12 slots, 2 a child), so the cap holds them in the broker.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect(await client.messageCount(`worker_${TYPE}`)).toBeGreaterThan(TASKS - 5 * RATE * 1.5);

    const results = await client.collect('results', TASKS, 90_000);
    const stamps = stampsOf(results);
    // None lost, none twice.
    expect(new Set(stamps.map((s) => s.n)).size).toBe(TASKS);
    expect(stamps).toHaveLength(TASKS);

    // The steady window: from 2 s after the first start (the children resume minting within
    // 0.25 s of the backlog, and the shares settle within a recount, 1.2 s at most) to 1 s before
    // the last. About 17 s, ~340 starts: a burst of banked tokens (a token lives 0.25 s: 5 at this
    // rate) or a recount's lag (1.2 s at most off by a share, under 4 tokens) moves the count by
    // well under the 34 that 10 % allows, while timer drift on a loaded machine is paid back by
    // the minters' clock-based carry, not lost.
    const first = stamps[0]!.startedAt;
    const last = stamps.at(-1)!.startedAt;
    const from = first + 2000;
    const to = last - 1000;
    const inWindow = stamps.filter((s) => s.startedAt >= from && s.startedAt < to).length;
    const rate = inWindow / ((to - from) / 1000);
    console.info(
      `rate_limit ${RATE}: ${inWindow} starts in ${((to - from) / 1000).toFixed(1)} s = ${rate.toFixed(2)}/s; all ${TASKS} in ${((last - first) / 1000).toFixed(1)} s`,
    );
    expect(rate).toBeGreaterThanOrEqual(RATE * 0.9);
    expect(rate).toBeLessThanOrEqual(RATE * 1.1);

    // Both pools took part: each started at least a fifth of the tasks (tokens go round-robin
    // over six consumers, three a pool).
    const pidsA = childPidsOf(a, TYPE);
    const pidsB = childPidsOf(b, TYPE);
    const byA = stamps.filter((s) => pidsA.has(s.pid)).length;
    const byB = stamps.filter((s) => pidsB.has(s.pid)).length;
    console.info(`pool A started ${byA}, pool B ${byB}`);
    expect(byA + byB).toBe(TASKS);
    expect(byA).toBeGreaterThan(TASKS / 5);
    expect(byB).toBeGreaterThan(TASKS / 5);
    // No task was parked, none counted as a crash.
    expect(await client.messageCount(`worker_${TYPE}.dead`)).toBe(0);
    expect(results.every((m) => m.properties.headers?.['x-taskqueue-crashes'] === undefined)).toBe(
      true,
    );
  });

  // Quorum too: its token queue bounds length and drops expired tokens (RabbitMQ ≥ 3.10).
  it.each(['classic', 'quorum'])(
    'runs every task of a type capped low, no faster than its cap (%s)',
    async (queueType) => {
      const { url, client } = await setUp(`rate-low-${queueType}`);
      const p = pool(url, `[${TYPE}]\nworkers = 2\nrate_limit = 2\n`, queueType);
      await p.waitForRunning(TYPE, 2, 60_000);
      await expect
        .poll(() => client.consumerCount(rateTokenQueue(TYPE)), { timeout: 20_000 })
        .toBe(2);
      // Idle, both children stop minting: the backlog must start them again.
      const paused = () =>
        p.logs().filter((l) => l.msg === 'rate limit: no tasks; minting paused').length;
      await expect.poll(paused, { timeout: 20_000 }).toBe(2);
      await publishTasks(client, 10);
      const stamps = stampsOf(await client.collect('results', 10, 60_000));
      expect(new Set(stamps.map((s) => s.n)).size).toBe(10);
      // 10 starts at 2 a second span 4.5 s; banked tokens (a token lives 1 s at this rate: 2 at
      // most) could shorten that by a second: 3 s is the bound a cap-free run (all ten at once)
      // would miss by far.
      const span = stamps.at(-1)!.startedAt - stamps[0]!.startedAt;
      console.info(`rate_limit 2 (${queueType}): 10 tasks started over ${span} ms`);
      expect(span).toBeGreaterThanOrEqual(3000);
    },
  );

  it('runs a capped type one task at a time with a second in hand (concurrency), none lost, none twice', async () => {
    const { url, client } = await setUp('rate-concurrency');
    const p = pool(
      url,
      `[${TYPE}]\nworkers = 1\nprefetch = 2\nconcurrency = 1\nrate_limit = 4\nsleep_ms = 600\n`,
    );
    await p.waitForRunning(TYPE, 1, 60_000);
    await publishTasks(client, 6);
    // Tokens come every 250 ms and a task runs 600: the child gets a second task while its first
    // runs, and holds it waiting (two out of the queue), never a third.
    await expect
      .poll(() => client.messageCount(`worker_${TYPE}`), { timeout: 10_000, interval: 50 })
      .toBe(4);
    const results = await client.collect('results', 6, 60_000);
    const stamps = stampsOf(results);
    expect(new Set(stamps.map((s) => s.n)).size).toBe(6);
    expect(stamps).toHaveLength(6);
    // One at a time: each started once the one before it had run its 600 ms.
    for (let i = 1; i < stamps.length; i++)
      expect(stamps[i]!.startedAt - stamps[i - 1]!.startedAt).toBeGreaterThanOrEqual(590);
    expect(await client.messageCount(`worker_${TYPE}.dead`)).toBe(0);
    expect(results.every((m) => m.properties.headers?.['x-taskqueue-crashes'] === undefined)).toBe(
      true,
    );
  });

  it('recycles children of a capped type (max_tasks_per_child) without losing or repeating a task', async () => {
    const { url, client } = await setUp('rate-recycle');
    const p = pool(
      url,
      `[${TYPE}]\nworkers = 2\nprefetch = 2\nrate_limit = 50\nmax_tasks_per_child = 7\n`,
    );
    await p.waitForRunning(TYPE, 2, 60_000);
    await publishTasks(client, 60);
    const stamps = stampsOf(await client.collect('results', 60, 60_000));
    expect(stamps).toHaveLength(60);
    expect(new Set(stamps.map((s) => s.n)).size).toBe(60);
    // Children were recycled: at least 60 / 7 of them ran tasks, none more than 7.
    const perChild = new Map<number, number>();
    for (const s of stamps) perChild.set(s.pid, (perChild.get(s.pid) ?? 0) + 1);
    expect(perChild.size).toBeGreaterThanOrEqual(9);
    expect(Math.max(...perChild.values())).toBeLessThanOrEqual(7);
    expect(await client.messageCount(`worker_${TYPE}.dead`)).toBe(0);
    // Nothing came back to count as a crash, and no task is left behind.
    expect(p.logs().filter((l) => l.code === 'TQ_ERR_TASK_POISON')).toHaveLength(0);
    expect(await client.messageCount(`worker_${TYPE}`)).toBe(0);
  });

  it('counts a crash of a child holding a task it got with a token, as for a consumed one', async () => {
    const { url, client } = await setUp('rate-crash');
    const p = pool(
      url,
      `[${TYPE}]\nworkers = 1\nrate_limit = 5\nsleep_ms = 5000\nmax_crashes = 1\n`,
    );
    await p.waitForRunning(TYPE, 1, 60_000);
    await publishTasks(client, 1);
    // Got: the task left worker_stamp and is in the child's hands, unacked.
    await expect
      .poll(() => client.messageCount(`worker_${TYPE}`), { timeout: 10_000, interval: 50 })
      .toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const victim = childPids(p.pid)[0]!;
    process.kill(victim, 'SIGKILL');
    // Redelivered to the successor, which asks the pool, hears of the crash and (max_crashes 1)
    // parks it with its count: the broker redelivers a got task as it does a consumed one.
    const dead = await client.collect(`worker_${TYPE}.dead`, 1, 60_000);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.properties.headers?.['x-taskqueue-crashes']).toBe(1);
    const [result] = await client.collect('results', 1, 30_000);
    expect(JSON.parse(result!.content.toString()).error).toMatch(/poison/);
  });

  it('on SIGTERM a capped pool finishes its tasks in hand and leaves the rest in the broker', async () => {
    const { url, client } = await setUp('rate-stop');
    const section = `[${TYPE}]\nworkers = 2\nprefetch = 2\nrate_limit = 10\nsleep_ms = 400\n`;
    const first = pool(url, section);
    await first.waitForRunning(TYPE, 2, 60_000);
    await publishTasks(client, 30);
    await expect
      .poll(() => client.messageCount(`worker_${TYPE}`), { timeout: 20_000, interval: 50 })
      .toBeLessThan(25);
    expect(await first.stop()).toEqual({ code: 0, signal: null });
    const left = await client.messageCount(`worker_${TYPE}`);
    // The stop took no task out of the queue that it did not finish.
    const finished = await client.collect('results', 30 - left, 10_000);
    expect(finished).toHaveLength(30 - left);
    const second = pool(url, section);
    await second.waitForRunning(TYPE, 2, 60_000);
    const rest = await client.collect('results', left, 60_000);
    const stamps = stampsOf([...finished, ...rest]);
    expect(new Set(stamps.map((s) => s.n)).size).toBe(30);
    expect(stamps).toHaveLength(30);
    expect(await client.messageCount(`worker_${TYPE}.dead`)).toBe(0);
    expect(rest.every((m) => m.properties.headers?.['x-taskqueue-crashes'] === undefined)).toBe(
      true,
    );
  });

  it('holds the cap (±10 %) while a pool joins and another leaves', async () => {
    const { url, client } = await setUp('rate-join-leave');
    const RATE = 20;
    const TASKS = 600;
    const section = `[${TYPE}]\nworkers = 2\nprefetch = 2\nrate_limit = ${RATE}\nsleep_ms = 20\n`;
    const a = pool(url, section);
    await a.waitForRunning(TYPE, 2, 60_000);
    await publishTasks(client, TASKS);
    const results = client.collect('results', TASKS, 120_000);
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const b = pool(url, section);
    await b.waitForRunning(TYPE, 2, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(await a.stop()).toEqual({ code: 0, signal: null });
    const stamps = stampsOf(await results);
    expect(new Set(stamps.map((s) => s.n)).size).toBe(TASKS);
    // About 27 s, ~530 starts in the window. A join of 2 children to 2 overshoots by at most
    // rate × 2/4 for a recount (1.2 s): 12 starts; a leave undershoots as much; both well under
    // the 53 that 10 % allows.
    const first = stamps[0]!.startedAt;
    const last = stamps.at(-1)!.startedAt;
    const from = first + 2000;
    const to = last - 1000;
    const inWindow = stamps.filter((s) => s.startedAt >= from && s.startedAt < to).length;
    const rate = inWindow / ((to - from) / 1000);
    console.info(
      `rate_limit ${RATE}, a pool joining and one leaving: ${inWindow} starts in ${((to - from) / 1000).toFixed(1)} s = ${rate.toFixed(2)}/s`,
    );
    expect(rate).toBeGreaterThanOrEqual(RATE * 0.9);
    expect(rate).toBeLessThanOrEqual(RATE * 1.1);
    // Both ran tasks.
    const pidsB = childPidsOf(b, TYPE);
    expect(stamps.filter((s) => pidsB.has(s.pid)).length).toBeGreaterThan(TASKS / 4);
    expect(await client.messageCount(`worker_${TYPE}.dead`)).toBe(0);
  });
});
