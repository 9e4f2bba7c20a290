import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { PoolStatus } from '../../src/workerpool/status/snapshot.js';
import { workitem } from '../support/amqp-client.js';
import { childPids } from '../support/processes.js';
import { type Program, RUN_ROOT, runToEnd, testConfig } from '../support/programs.js';
import { useTestScope } from '../support/scope.js';

/**
 * `concurrency` below `prefetch`: a child holds a second task while its plugin runs one
 * (docs/configuration.md). Real pool, real children, real broker.
 */
describe('a second task in hand (concurrency below prefetch)', () => {
  const scope = useTestScope('concurrency');

  function pool(type: string, section: string, workerpool = ''): Program {
    const text = testConfig(scope.url, [type], `[${type}]\n${section}`);
    return scope.program(text.replace('[workerpool]\n', `[workerpool]\n${workerpool}`));
  }

  async function publish(type: string, count: number, prefix: string, fields = {}) {
    await scope.client.declare(`worker_${type}`);
    for (let n = 0; n < count; n++) {
      await scope.client.publish(`worker_${type}`, workitem(type, { n, ...fields }), {
        correlationId: `${prefix}-${n}`,
      });
    }
  }

  it('runs one task at a time while holding two', async () => {
    const program = pool('stamp', 'workers = 1\nprefetch = 2\nconcurrency = 1\nsleep_ms = 400\n');
    await program.waitFor(/worker consuming/);
    await publish('stamp', 4, 'turn');
    // Both held by the one child: two left ready in the queue while the first runs.
    await expect.poll(() => scope.client.messageCount('worker_stamp'), { timeout: 5_000 }).toBe(2);
    const results = await scope.client.collect('results', 4, 30_000);
    const starts = results
      .map((m) => JSON.parse(m.content.toString()).fields.started_at as number)
      .sort((a, b) => a - b);
    for (let i = 1; i < starts.length; i++)
      expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(390);
  });

  it('shows the waiting task as waiting in `taskqueue status`, and the running one as not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tq-concurrency-status-'));
    scope.cleanup(() => rmSync(dir, { recursive: true, force: true }));
    const socket = join(dir, 'pool.sock');
    const program = pool(
      'stamp',
      'workers = 1\nprefetch = 2\nconcurrency = 1\nsleep_ms = 4000\n',
      `status_socket = ${socket}\n`,
    );
    await program.waitFor(/worker consuming/);
    await publish('stamp', 2, 'seen');
    const cli = join(RUN_ROOT, 'dist/cli/main.js');
    const inHand = async () => {
      const { stdout } = await runToEnd([
        process.execPath,
        cli,
        'status',
        '--json',
        '--socket',
        socket,
      ]);
      const pool = JSON.parse(stdout).daemons[0].status as PoolStatus;
      return pool.groups[0]?.children[0]?.inHand ?? [];
    };
    // One answer with both in it: the first is running, the second waits for its turn.
    let tasks: Awaited<ReturnType<typeof inHand>> = [];
    await expect
      .poll(
        async () => {
          tasks = await inHand();
          return tasks.length;
        },
        { timeout: 10_000 },
      )
      .toBe(2);
    expect(tasks.map((t) => [t.id, t.waiting]).sort()).toEqual([
      ['seen-0', false],
      ['seen-1', true],
    ]);
    const human = await runToEnd([process.execPath, cli, 'status', '--socket', socket]);
    expect(human.stdout).toMatch(
      /seen-0 \(stamp, \d+s\), seen-1 \(stamp, waiting \d+s\)|seen-1 \(stamp, waiting \d+s\), seen-0 \(stamp, \d+s\)/,
    );
    // Both answered, so that no result of theirs is left for the next test.
    const results = await scope.client.collect('results', 2, 20_000);
    expect(results.map((m) => m.properties.correlationId).sort()).toEqual(['seen-0', 'seen-1']);
  });

  it('does not count a crash against the task that waited behind the one that crashed', async () => {
    const program = pool(
      'slow',
      'workers = 1\nprefetch = 2\nconcurrency = 1\nmax_crashes = 1\nsleep_ms = 2000\n',
    );
    await program.waitFor(/worker consuming/);
    await publish('slow', 2, 'crash');
    // Both in the child: crash-0 running, crash-1 waiting for its turn.
    await expect.poll(() => scope.client.messageCount('worker_slow'), { timeout: 5_000 }).toBe(0);
    await sleep(300);
    const [victim] = childPids(program.pid);
    process.kill(victim!, 'SIGKILL');
    // The running one was the crash's: poison at max_crashes 1, parked with an error result.
    await expect
      .poll(() => scope.client.messageCount('worker_slow.dead'), { timeout: 15_000 })
      .toBe(1);
    const results = await scope.client.collect('results', 2, 30_000);
    const byId = new Map(
      results.map((m) => [m.properties.correlationId, JSON.parse(m.content.toString())]),
    );
    expect(String(byId.get('crash-0')?.error)).toContain('died');
    // The waiting one ran again in the new child, as a task that never ran.
    expect(byId.get('crash-1')?.error).toBeUndefined();
    expect(byId.get('crash-1')?.fields.pid).not.toBe(victim);
  });

  it('hands a waiting task back at once when stopped, and lets the running one finish', async () => {
    const program = pool('stamp', 'workers = 1\nprefetch = 2\nconcurrency = 1\nsleep_ms = 3000\n');
    await program.waitFor(/worker consuming/);
    await publish('stamp', 2, 'stop');
    await expect.poll(() => scope.client.messageCount('worker_stamp'), { timeout: 5_000 }).toBe(0);
    const stopped = program.stop();
    // Back in the queue well before the running task's 3 s are up.
    await expect.poll(() => scope.client.messageCount('worker_stamp'), { timeout: 1_500 }).toBe(1);
    await stopped;
    const results = await scope.client.collect('results', 1, 10_000);
    expect(results.map((m) => m.properties.correlationId)).toEqual(['stop-0']);
    const [back] = await scope.client.drain('worker_stamp');
    expect(back?.properties.correlationId).toBe('stop-1');
  });
});
