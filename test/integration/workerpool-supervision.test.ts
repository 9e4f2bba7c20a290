import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import { childPids, isAlive } from '../support/processes.js';
import { type Program, startPool, testConfig, writeConfig } from '../support/programs.js';

/** Publishes `count` tasks straight to `worker_<type>` (the pool alone is under test here). */
async function publishTasks(
  client: TestClient,
  type: string,
  count: number,
  prefix: string,
  fields = {},
) {
  await client.declare(`worker_${type}`);
  await Promise.all(
    Array.from({ length: count }, (_, n) =>
      client.publish(`worker_${type}`, workitem(type, { n, ...fields }), {
        correlationId: `${prefix}-${n}`,
      }),
    ),
  );
}

const ids = (messages: Array<{ properties: { correlationId?: string } }>) =>
  messages.map((m) => String(m.properties.correlationId)).sort();
const expectedIds = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, n) => `${prefix}-${n}`).sort();
const failures = (pool: Program) => pool.logs().filter((l) => l.code === 'TQ_ERR_GROUP_FAILED');
const stateLines = (pool: Program, group: string, to: string) =>
  pool.logs().filter((l) => l.msg === 'child state' && l.group === group && l.to === to);

describe('worker pool supervision', () => {
  let url: string;
  let client: TestClient;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    url = await useVhost('supervision');
    client = await TestClient.connect(url);
  });

  // Each test's pools stop before the next test, so no pool consumes another test's tasks.
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  afterAll(async () => {
    await client?.close();
  });

  function pool(
    enabled: string[],
    sections: string,
    extraWorkerpool = '',
  ): { program: Program; file: string } {
    // Keys in extraWorkerpool replace testConfig's (a key twice in a section is a config error).
    let text = testConfig(url, enabled, sections);
    for (const line of extraWorkerpool.split('\n').filter(Boolean)) {
      const key = line.split('=')[0]!.trim();
      text = text.replace(new RegExp(`^${key} *=.*\n`, 'm'), '');
    }
    const config = writeConfig(text.replace('[workerpool]\n', `[workerpool]\n${extraWorkerpool}`));
    const program = startPool(config.file);
    cleanups.push(async () => {
      await program.stop();
      config.cleanup();
    });
    return { program, file: config.file };
  }

  it('replaces a child killed with SIGKILL mid-task; its task is redelivered and completed', async () => {
    const { program } = pool(['slow'], '[slow]\nworkers = 2\nsleep_ms = 1500\n');
    await program.waitFor(/"group":"slow".*"to":"running"/);
    await expect
      .poll(() => stateLines(program, 'slow', 'running').length, { timeout: 20_000 })
      .toBe(2);
    await publishTasks(client, 'slow', 4, 'kill');
    // Prefetch 1: two tasks left in the queue means each child holds one.
    await expect
      .poll(() => client.messageCount('worker_slow'), { timeout: 10_000, interval: 20 })
      .toBe(2);
    const victim = childPids(program.pid)[0]!;
    process.kill(victim, 'SIGKILL');
    const results = await client.collect('results', 4, 60_000);
    expect(ids(results)).toEqual(expectedIds('kill', 4));
    expect(results.every((m) => JSON.parse(m.content.toString()).fields.pid !== victim)).toBe(true);
    const exit = program
      .logs()
      .find((l) => l.msg === 'child state' && l.childPid === victim && l.to === 'exited');
    expect(exit?.cause).toBe('signal SIGKILL');
    await expect.poll(() => childPids(program.pid).length, { timeout: 20_000 }).toBe(2);
    expect(childPids(program.pid)).not.toContain(victim);
  });

  // The delays, their doubling, the count and the pause's doubling: group-supervisor.test.ts.
  it('restarts a plugin that fails at startup until the group fails, and says ready only then', async () => {
    const { program } = pool(
      ['crash-on-start', 'pid'],
      '[crash-on-start]\nworkers = 1\n[pid]\nworkers = 1\n',
    );
    await program.waitFor(/"code":"TQ_ERR_GROUP_FAILED"/, 90_000);
    const starts = stateLines(program, 'crash-on-start', 'starting').map((l) => Number(l.time));
    // The first start and DEFAULT_POLICY.maxRestarts (5) restarts; the sixth failure marks it failed.
    expect(starts).toHaveLength(6);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    console.info(`crash-on-start: ${starts.length} starts, gaps ${gaps.join(', ')} ms`);
    // Each of the six children said why: its plugin's setup failed.
    const setupFailed = program
      .logs()
      .filter((l) => l.code === 'TQ_ERR_PLUGIN_SETUP' && l.childPid !== undefined);
    expect(new Set(setupFailed.map((l) => l.childPid)).size).toBe(6);
    // A plugin that cannot start, not children killed from outside.
    expect(failures(program)).toMatchObject([{ onlyFromOutside: false, retryInS: 5 }]);
    // The pool tells systemd it is ready only once every group settled: running or failed. The
    // line follows GROUP FAILED asynchronously: wait for it, then compare the order.
    await program.waitFor(/"msg":"ready"/, 30_000);
    const logs = program.logs();
    const ready = logs.findIndex((l) => l.msg === 'ready');
    expect(ready).toBeGreaterThan(logs.findIndex((l) => l.code === 'TQ_ERR_GROUP_FAILED'));
    // The other group is unaffected.
    await publishTasks(client, 'pid', 1, 'healthy');
    expect(ids(await client.collect('results', 1, 30_000))).toEqual(['healthy-0']);
  });

  it('after a storm of kills from outside, some while starting, serves again within seconds', async () => {
    const { program } = pool(['pid'], '[pid]\nworkers = 4\n');
    await expect
      .poll(() => stateLines(program, 'pid', 'running').length, { timeout: 30_000 })
      .toBe(4);
    // For 12 s, a SIGKILL every 250 ms to a random child, children still starting among them.
    let killed = 0;
    const stormEnd = Date.now() + 12_000;
    while (Date.now() < stormEnd) {
      const pids = childPids(program.pid);
      const victim = pids[Math.floor(Math.random() * pids.length)];
      if (victim !== undefined) {
        try {
          process.kill(victim, 'SIGKILL');
          killed++;
        } catch {
          // Gone already.
        }
      }
      await sleep(250);
    }
    // None left from before the storm's end: what serves next was started after it.
    for (const pid of childPids(program.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    const sent = Date.now();
    await publishTasks(client, 'pid', 3, 'after-storm');
    const results = await client.collect('results', 3, 60_000);
    const latencyMs = Date.now() - sent;
    const paused = program.logs().filter((l) => l.code === 'TQ_ERR_GROUP_PAUSED');
    console.info(
      `storm: ${killed} kills, ${paused.length} pauses (${paused.map((l) => l.retryInS).join(', ')} s), tasks answered ${latencyMs} ms after it`,
    );
    expect(ids(results)).toEqual(expectedIds('after-storm', 3));
    expect(latencyMs).toBeLessThan(45_000);
    expect(paused.length).toBeGreaterThan(0); // the storm did trip the restart intensity
    expect(paused.every((l) => Number(l.retryInS) < 300)).toBe(true);
    // Killed from outside: a pause, not the plugin's failure.
    expect(failures(program)).toEqual([]);
    expect(program.logs().filter((l) => l.meaning === 'startup-failure')).toEqual([]);
  });

  it('never gives up on a group whose children are killed one after another while it makes progress', async () => {
    // Each child sets up for 5 s: a replacement is still starting when it is killed, however long
    // the wait for the survivor's next result took (a replacement that had done a task would be
    // replaced without counting, and the test would count fewer restarts than kills).
    const { program } = pool(['slow'], '[slow]\nworkers = 2\nsleep_ms = 1000\nsetup_ms = 5000\n');
    await expect
      .poll(() => stateLines(program, 'slow', 'running').length, { timeout: 30_000 })
      .toBe(2);
    const first = childPids(program.pid);
    await publishTasks(client, 'slow', 30, 'storm');
    // Eight kills, seven of children still starting (each one a counted restart: DEFAULT_POLICY
    // allows five a minute), while the surviving child keeps finishing tasks, one a second:
    // between two kills it finishes at least one.
    const resultsSoFar = () => client.messageCount('results').catch(() => 0);
    const seen = new Set(first);
    let killed = 0;
    process.kill(first[1]!, 'SIGKILL');
    killed++;
    for (let round = 0; round < 3000 && killed < 8; round++) {
      await sleep(10);
      const fresh = childPids(program.pid).filter((pid) => !seen.has(pid));
      if (fresh.length === 0) continue;
      for (const pid of fresh) seen.add(pid);
      const before = await resultsSoFar();
      process.kill(fresh[0]!, 'SIGKILL');
      killed++;
      await expect.poll(resultsSoFar, { timeout: 20_000, interval: 50 }).toBeGreaterThan(before);
    }
    expect(killed).toBe(8);
    const results = await client.collect('results', 30, 90_000);
    expect(ids(results)).toEqual(expectedIds('storm', 30));
    expect(program.logs().some((l) => l.code === 'TQ_ERR_GROUP_FAILED')).toBe(false);
    // More counted restarts than DEFAULT_POLICY's five a minute: only the progress kept it alive.
    expect(program.logs().filter((l) => l.code === 'TQ_ERR_CHILD_EXITED').length).toBeGreaterThan(
      5,
    );
  });

  it('on SIGTERM finishes the 20 tasks in flight, publishes their results and exits 0', async () => {
    const { program } = pool(['slow'], '[slow]\nworkers = 4\nprefetch = 5\nsleep_ms = 1000\n');
    await expect
      .poll(() => stateLines(program, 'slow', 'running').length, { timeout: 30_000 })
      .toBe(4);
    await publishTasks(client, 'slow', 20, 'drain');
    await expect
      .poll(() => client.messageCount('worker_slow'), { timeout: 10_000, interval: 20 })
      .toBe(0);
    const { code } = await program.stop();
    expect(code).toBe(0);
    const results = await client.collect('results', 20, 10_000);
    expect(ids(results)).toEqual(expectedIds('drain', 20));
    // Every ack reached the broker before the children disconnected: nothing came back.
    expect(await client.messageCount('worker_slow')).toBe(0);
  });

  it('hands a task longer than shutdown_timeout back to the broker for another pool', async () => {
    const sections = '[slow]\nworkers = 1\nsleep_ms = 6000\n';
    const first = pool(['slow'], sections, 'shutdown_timeout = 1\n').program;
    await first.waitFor(/"group":"slow".*"to":"running"/);
    const firstChild = childPids(first.pid)[0];
    await publishTasks(client, 'slow', 1, 'long');
    await expect
      .poll(() => client.messageCount('worker_slow'), { timeout: 10_000, interval: 20 })
      .toBe(0);
    await first.stop();
    const second = pool(['slow'], sections).program;
    const [result] = await client.collect('results', 1, 60_000);
    expect(result?.properties.correlationId).toBe('long-0');
    const pid = JSON.parse(result!.content.toString()).fields.pid;
    expect(pid).not.toBe(firstChild);
    expect(childPids(second.pid)).toContain(pid);
    // Handed back, not crashed: no crash counted, and no second copy left behind.
    expect(second.logs().some((l) => l.code === 'TQ_ERR_TASK_CRASHED')).toBe(false);
    expect(await client.messageCount('worker_slow')).toBe(0);
  });

  it('leaves no child behind when the pool is killed with SIGKILL', async () => {
    const { program } = pool(['slow'], '[slow]\nworkers = 3\nsleep_ms = 10000\n');
    await expect
      .poll(() => stateLines(program, 'slow', 'running').length, { timeout: 30_000 })
      .toBe(3);
    await publishTasks(client, 'slow', 3, 'orphan');
    // Prefetch 1: the queue empty means each of the three children holds a task.
    await expect
      .poll(() => client.messageCount('worker_slow'), { timeout: 10_000, interval: 20 })
      .toBe(0);
    const children = childPids(program.pid);
    expect(children).toHaveLength(3);
    program.process.kill('SIGKILL');
    await program.exited();
    await expect.poll(() => children.filter(isAlive), { timeout: 5_000 }).toEqual([]);
    // Their tasks are not lost: the broker holds them again.
    await expect.poll(() => client.messageCount('worker_slow'), { timeout: 10_000 }).toBe(3);
    await client.drain('worker_slow');
  });

  it('recycles children after max_tasks_per_child without losing a task', async () => {
    const { program } = pool(['pid'], '[pid]\nworkers = 1\nmax_tasks_per_child = 10\n');
    await program.waitFor(/"group":"pid".*"to":"running"/);
    await publishTasks(client, 'pid', 100, 'recycle');
    const results = await client.collect('results', 100, 120_000);
    expect(ids(results)).toEqual(expectedIds('recycle', 100));
    const pids = new Set(results.map((m) => JSON.parse(m.content.toString()).fields.pid));
    console.info(`max_tasks_per_child=10: 100 tasks over ${pids.size} children`);
    expect(pids.size).toBeGreaterThanOrEqual(10);
    expect(
      program
        .logs()
        .some((l) => l.to === 'retiring' && String(l.cause).includes('max_tasks_per_child')),
    ).toBe(true);
  });

  it('hands back, unchanged and not as a crash, the tasks prefetched by a retiring child', async () => {
    // Each child takes one task, then retires with 4 more already delivered to it.
    const { program } = pool(
      ['pid'],
      '[pid]\nworkers = 1\nprefetch = 5\nmax_tasks_per_child = 1\n',
    );
    await program.waitFor(/"group":"pid".*"to":"running"/);
    await publishTasks(client, 'pid', 12, 'late');
    const results = await client.collect('results', 12, 120_000);
    expect(ids(results)).toEqual(expectedIds('late', 12));
    const bodies = results.map((m) => JSON.parse(m.content.toString()));
    expect(bodies.filter((b) => b.error !== undefined)).toEqual([]);
    expect(new Set(bodies.map((b) => b.fields.pid)).size).toBe(12);
    expect(results.map((m) => m.properties.headers?.['x-taskqueue-crashes'])).toEqual(
      Array(12).fill(undefined),
    );
    expect(program.logs().some((l) => l.msg === 'retiring: task handed back')).toBe(true);
  });

  it('replaces a child above max_memory_per_child between tasks, without losing a task', async () => {
    const { program } = pool(
      ['hog'],
      '[hog]\nworkers = 1\nmax_memory_per_child = 150\nmib_per_task = 40\n',
    );
    await program.waitFor(/"group":"hog".*"to":"running"/);
    await publishTasks(client, 'hog', 12, 'hog');
    const results = await client.collect('results', 12, 60_000);
    expect(ids(results)).toEqual(expectedIds('hog', 12));
    const fields = results.map((m) => JSON.parse(m.content.toString()).fields);
    const pids = new Set(fields.map((f) => f.pid));
    const peak = Math.max(...fields.map((f) => f.rss_mib));
    console.info(
      `max_memory_per_child=150: 12 tasks over ${pids.size} children, peak RSS ${peak} MiB`,
    );
    expect(pids.size).toBeGreaterThanOrEqual(2);
    // Replaced between tasks: no child grew much past the limit plus one task's worth.
    expect(peak).toBeLessThan(150 + 2 * 40);
    // The task that takes a child over the limit is its last: none starts above it.
    const overLimit = new Map<number, number[]>();
    for (const f of fields)
      if (f.rss_mib > 150) overLimit.set(f.pid, [...(overLimit.get(f.pid) ?? []), f.rss_mib]);
    expect([...overLimit].filter(([, rss]) => rss.length > 1)).toEqual([]);
    const retiring = program.logs().find((l) => l.to === 'retiring');
    expect(String(retiring?.cause)).toContain('max_memory_per_child');
  });
  it("starts a group's children with its semi_space_size, the others with 1 MiB", async () => {
    const { program } = pool(
      ['echo', 'slow'],
      '[echo]\nworkers = 1\nsemi_space_size = 8M\n[slow]\nworkers = 1\nsleep_ms = 1\n',
    );
    await expect.poll(() => childPids(program.pid).length, { timeout: 20_000 }).toBe(2);
    await expect
      .poll(() => stateLines(program, 'echo', 'running').length, { timeout: 20_000 })
      .toBe(1);
    await expect
      .poll(() => stateLines(program, 'slow', 'running').length, { timeout: 20_000 })
      .toBe(1);
    // After setpriv's exec (the pool runs as root here) the pid is Node's, its argv the child's.
    const argvs = childPids(program.pid).map((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'),
    );
    const semiSpace = argvs.map((argv) => argv.filter((a) => /^--(max|min)-semi-space/.test(a)));
    expect(semiSpace.sort()).toEqual([
      ['--max-semi-space-size=1'],
      ['--max-semi-space-size=8', '--min-semi-space-size=8'],
    ]);
    await publishTasks(client, 'echo', 3, 'semi');
    expect(ids(await client.collect('results', 3, 30_000))).toEqual(expectedIds('semi', 3));
  });
});
