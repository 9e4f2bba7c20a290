import { describe, expect, it } from 'vitest';
import type { GroupConfig } from '../../../src/common/config/types.js';
import { StatsReporter } from '../../../src/workerpool/child/stats-reporter.js';
import type { TaskInHand } from '../../../src/workerpool/child/task.js';
import { isChildMessage } from '../../../src/workerpool/ipc.js';
import { PoolStats } from '../../../src/workerpool/stats-totals.js';
import {
  bucketIndex,
  MAX_STATS_COUNT,
  MAX_TASK_SECONDS,
  QUEUED_SECONDS_BUCKETS,
  RUN_SECONDS_BUCKETS,
  type StatsMessage,
  TASK_OUTCOMES,
  TaskStats,
} from '../../../src/workerpool/task-stats.js';

const index = (outcome: (typeof TASK_OUTCOMES)[number]) => TASK_OUTCOMES.indexOf(outcome);

describe('TaskStats: a child counts its tasks in plain arrays', () => {
  it('puts a value in the first bucket whose bound is at least it, past the last in the last', () => {
    expect(bucketIndex([1, 2, 5], 0)).toBe(0);
    expect(bucketIndex([1, 2, 5], 1)).toBe(0);
    expect(bucketIndex([1, 2, 5], 1.5)).toBe(1);
    expect(bucketIndex([1, 2, 5], 5)).toBe(2);
    expect(bucketIndex([1, 2, 5], 6)).toBe(3);
  });

  it('gives what changed since the last take, then starts from zero', () => {
    const stats = new TaskStats();
    expect(stats.take()).toBeUndefined();
    stats.ended('succeeded');
    stats.ended('succeeded');
    stats.ended('poisoned');
    stats.ran(0.02);
    stats.ran(4000);
    stats.queued(3);
    const first = stats.take()!;
    expect(first.kind).toBe('stats');
    expect(first.outcomes[index('succeeded')]).toBe(2);
    expect(first.outcomes[index('poisoned')]).toBe(1);
    expect(first.outcomes.reduce((a, b) => a + b)).toBe(3);
    expect(first.run).toHaveLength(RUN_SECONDS_BUCKETS.length + 1);
    expect(first.run[bucketIndex(RUN_SECONDS_BUCKETS, 0.02)]).toBe(1);
    expect(first.run.at(-1)).toBe(1); // 4000 s: past the highest bound
    expect(first.runSum).toBeCloseTo(4000.02);
    expect(first.queued[bucketIndex(QUEUED_SECONDS_BUCKETS, 3)]).toBe(1);
    expect(first.queuedSum).toBe(3);
    expect(stats.take()).toBeUndefined();
    stats.ended('failed');
    expect(stats.take()!.outcomes[index('failed')]).toBe(1);
  });

  it('counts a negative wait (the sender clock ahead) as 0, and bounds an absurd one', () => {
    const stats = new TaskStats();
    stats.queued(-42);
    const m = stats.take()!;
    expect(m.queued[0]).toBe(1);
    expect(m.queuedSum).toBe(0);
    // A sender's timestamp of 0, a million times in one second: still a message the pool takes.
    for (let n = 0; n < MAX_STATS_COUNT; n++) stats.queued(Date.now() / 1000);
    const absurd = stats.take()!;
    expect(absurd.queuedSum).toBe(MAX_STATS_COUNT * MAX_TASK_SECONDS);
    expect(isChildMessage(absurd, 4)).toBe(true);
  });
});

describe('the pool checks a stats message strictly', () => {
  const good = (): StatsMessage => {
    const stats = new TaskStats();
    stats.ended('succeeded');
    stats.ran(0.1);
    return stats.take()!;
  };
  const ok = (m: unknown) => isChildMessage(JSON.parse(JSON.stringify(m)), 4);

  it('takes what TaskStats sends', () => {
    expect(ok(good())).toBe(true);
  });

  it.each<[string, (m: Record<string, unknown>) => void]>([
    ['an outcome array too long', (m) => (m.outcomes as number[]).push(0)],
    ['an outcome array too short', (m) => (m.outcomes as number[]).pop()],
    ['a bucket array of another length', (m) => (m.run as number[]).push(1)],
    ['a negative count', (m) => ((m.queued as number[])[0] = -1)],
    ['a fraction', (m) => ((m.outcomes as number[])[0] = 0.5)],
    ['a count past the bound', (m) => ((m.outcomes as number[])[0] = MAX_STATS_COUNT + 1)],
    ['a string count', (m) => ((m.outcomes as unknown[])[0] = '1')],
    ['a negative sum', (m) => (m.runSum = -1)],
    ['a sum that is not a number', (m) => (m.queuedSum = null)],
    ['a sum past the bound', (m) => (m.runSum = 1e300)],
    ['no arrays', (m) => delete m.run],
    ['outcomes by name', (m) => (m.outcomes = { succeeded: 1 })],
  ])('refuses %s', (_what, spoil) => {
    const m = good() as unknown as Record<string, unknown>;
    spoil(m);
    expect(ok(m)).toBe(false);
  });
});

describe('StatsReporter: at most one message a second, and the rest on flush', () => {
  const task = (fields: Partial<{ attempt: number; redelivered: boolean; timestamp: unknown }>) =>
    ({
      attempt: fields.attempt ?? 1,
      message: {
        fields: { redelivered: fields.redelivered ?? false },
        properties: { timestamp: 'timestamp' in fields ? fields.timestamp : 1000 },
      },
      ending: 'succeeded',
      ran: true,
      durationMs: 250,
    }) as unknown as TaskInHand;

  it('observes the wait of first deliveries of first attempts that carry a timestamp', async () => {
    const sent: StatsMessage[] = [];
    const reporter = new StatsReporter(
      (m, done) => {
        sent.push(m);
        done();
      },
      60_000,
      () => 1_003_500,
    );
    reporter.taken(task({}));
    reporter.taken(task({ attempt: 2 }));
    reporter.taken(task({ redelivered: true }));
    reporter.taken(task({ timestamp: undefined }));
    reporter.settled(task({}));
    expect(sent).toEqual([]); // not before the interval
    await reporter.flush();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.queued.reduce((a, b) => a + b)).toBe(1);
    expect(sent[0]!.queuedSum).toBeCloseTo(3.5);
    expect(sent[0]!.outcomes[index('succeeded')]).toBe(1);
    expect(sent[0]!.runSum).toBeCloseTo(0.25);
    await reporter.flush();
    expect(sent).toHaveLength(1); // nothing new: nothing sent
  });

  it('sends once per interval however many tasks end in it', async () => {
    const sent: StatsMessage[] = [];
    const reporter = new StatsReporter((m, done) => {
      sent.push(m);
      done();
    }, 20);
    for (let n = 0; n < 50; n++) reporter.settled(task({}));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.outcomes[index('succeeded')]).toBe(50);
  });

  it('tells a crashed or poison task at once: the next holder may die before the interval ends', () => {
    const sent: StatsMessage[] = [];
    const reporter = new StatsReporter((m, done) => {
      sent.push(m);
      done();
    }, 60_000);
    reporter.settled(task({}));
    reporter.settled({ ...task({}), ending: 'crashed', ran: false } as unknown as TaskInHand);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.outcomes[index('crashed')]).toBe(1);
    expect(sent[0]!.outcomes[index('succeeded')]).toBe(1);
  });

  it('does not wait for ever on a pool that never takes the last message', async () => {
    const reporter = new StatsReporter(() => {}, 20);
    reporter.settled(task({}));
    await reporter.flush(); // resolves after the interval at most
  });
});

describe("PoolStats: the pool's totals per group", () => {
  const group = (name: string, type: string) => ({ name, type }) as GroupConfig;
  it("adds each group's messages under the group's own type, and counts restarts by cause", () => {
    const stats = new PoolStats();
    const one = new TaskStats();
    one.ended('succeeded');
    one.ran(0.003);
    const m = one.take()!;
    stats.stats(group('echo_a', 'echo'), m);
    stats.stats(group('echo_a', 'echo'), m);
    stats.stats(group('shell', 'shell'), m);
    stats.restart(group('shell', 'shell'), 'crash');
    stats.restart(group('shell', 'shell'), 'crash');
    const totals = [...stats.groups()];
    expect(totals.map((t) => [t.group, t.type])).toEqual([
      ['echo_a', 'echo'],
      ['shell', 'shell'],
    ]);
    expect(totals[0]!.outcomes[index('succeeded')]).toBe(2);
    expect(totals[0]!.run.counts[0]).toBe(2);
    expect(totals[0]!.run.sum).toBeCloseTo(0.006);
    expect(totals[1]!.restarts.get('crash')).toBe(2);
  });
});
