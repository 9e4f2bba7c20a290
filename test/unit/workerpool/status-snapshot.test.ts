import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/common/config/load.js';
import { createLogger } from '../../../src/common/logger.js';
import { PoolHeartbeats } from '../../../src/workerpool/heartbeat.js';
import { buildPoolStatus, taskOfKey } from '../../../src/workerpool/status/snapshot.js';
import { poolStatusLine } from '../../../src/workerpool/status/status-line.js';
import type { GroupFacts, GroupSummary } from '../../../src/workerpool/supervisor/group.js';

const T0 = Date.parse('2026-12-06T20:00:00.000Z');

function facts(overrides: Partial<GroupFacts> = {}): GroupFacts {
  return {
    name: 'echo',
    type: 'echo',
    instance: undefined,
    user: 'builder',
    wanted: 2,
    running: 2,
    state: 'serving',
    failure: undefined,
    restartAt: undefined,
    restarts: { total: 1, byCause: { crash: 1 } },
    children: [
      {
        pid: 12,
        state: 'running',
        slot: 1,
        startedAt: T0 - 60_000,
        restarts: 1,
        held: new Map([['echo\0#hash', T0 - 4_000]]),
        waiting: new Map([['echo\0t-2', T0 - 2_500]]),
        settled: 7,
      },
      {
        pid: 11,
        state: 'running',
        slot: 0,
        startedAt: T0 - 120_000,
        restarts: 0,
        held: new Map(),
        waiting: new Map(),
        settled: 5,
      },
    ],
    ...overrides,
  };
}

const context = {
  now: T0,
  pid: 10,
  startedAt: T0 - 3_600_000,
  rss: (pid: number) => (pid === 11 ? 40 * 1024 ** 2 : undefined),
};

describe('the pool status snapshot', () => {
  it('reads a held-tasks key as id and type; a task without id has none', () => {
    expect(taskOfKey('echo\0t-1')).toEqual({ id: 't-1', type: 'echo' });
    expect(taskOfKey('build.v2\0a\0b')).toEqual({ id: 'a\0b', type: 'build.v2' });
    expect(taskOfKey('echo\0#2jmj7l5rSw0yVb')).toEqual({ id: null, type: 'echo' });
  });

  it('builds groups, children in slot order, tasks in hand oldest first, RSS and totals', () => {
    const failedShell = facts({
      name: 'shell',
      type: 'shell',
      user: undefined,
      wanted: 1,
      running: 0,
      state: 'failed',
      failure: {
        code: 'TQ_ERR_GROUP_FAILED',
        message: 'GROUP FAILED: …',
        at: T0 - 1_000,
        retryAt: T0 + 4_200,
      },
      restarts: { total: 6, byCause: { startup_failure: 6 } },
      children: [],
    });
    const status = buildPoolStatus([facts(), failedShell], context);
    expect(status).toMatchObject({
      daemon: 'workerpool',
      pid: 10,
      at: '2026-12-06T20:00:00.000Z',
      startedAt: '2026-12-06T19:00:00.000Z',
      uptimeS: 3600,
      totals: {
        groups: 2,
        failedGroups: 1,
        wanted: 3,
        running: 2,
        tasksInHand: 2,
        tasksDone: 12,
        restarts: 7,
        rssBytes: 40 * 1024 ** 2,
      },
    });
    const [echo, shell] = status.groups;
    expect(shell).toMatchObject({
      name: 'shell',
      user: null,
      instance: null,
      failed: {
        code: 'TQ_ERR_GROUP_FAILED',
        since: '2026-12-06T19:59:59.000Z',
        retryAt: '2026-12-06T20:00:04.200Z',
        retryInS: 5,
      },
    });
    expect(echo!.failed).toBeNull();
    expect(echo!.children.map((c) => c.pid)).toEqual([11, 12]);
    expect(echo!.children[0]).toEqual({
      pid: 11,
      slot: 0,
      state: 'running',
      startedAt: '2026-12-06T19:58:00.000Z',
      uptimeS: 120,
      tasksDone: 5,
      inHand: [],
      rssBytes: 40 * 1024 ** 2,
      restarts: 0,
    });
    expect(echo!.children[1]!.rssBytes).toBeNull();
    expect(echo!.children[1]!.inHand).toEqual([
      { id: null, type: 'echo', since: '2026-12-06T19:59:56.000Z', forS: 4, waiting: false },
      { id: 't-2', type: 'echo', since: '2026-12-06T19:59:57.500Z', forS: 2, waiting: true },
    ]);
  });

  it("gives the heartbeat each child's tasks in hand and how many of them wait", () => {
    const status = buildPoolStatus([facts()], context);
    const heartbeats = new PoolHeartbeats({
      amqp: parseConfigText('', 'test.ini', {}).amqp,
      intervalS: 10,
      snapshot: () => status,
      log: createLogger('test', 'error', () => {}),
    });
    const [child11, child12] = heartbeats.heartbeat('running').groups[0]!.children;
    expect(child11).toMatchObject({ pid: 11, inHand: 0, waiting: 0 });
    expect(child12).toMatchObject({ pid: 12, inHand: 2, waiting: 1 });
  });

  it('lists the groups of the config that do not run, and counts them', () => {
    const refused = [
      { name: 'zeta', type: 'zeta', code: 'TQ_ERR_PLUGIN_MISSING' as const, reason: 'no plugin' },
      { name: 'alpha_x', type: 'alpha', code: 'TQ_ERR_GROUP_REFUSED' as const, reason: 'no user' },
    ];
    const status = buildPoolStatus([facts()], context, refused);
    expect(status.refused.map((group) => group.name)).toEqual(['alpha_x', 'zeta']);
    expect(status.totals.refusedGroups).toBe(2);
    expect(poolStatusLine([], ['shell']).line).toBe('shell REFUSED');
  });

  it('is JSON as it is (no Map, no undefined)', () => {
    const status = buildPoolStatus([facts()], context);
    expect(JSON.parse(JSON.stringify(status))).toEqual(status);
  });
});

describe("the pool's STATUS= line", () => {
  const summary = (
    name: string,
    running: number,
    wanted: number,
    more: Partial<GroupSummary> = {},
  ) => ({ name, running, wanted, state: 'serving', failure: undefined, ...more }) as GroupSummary;

  it('says each group running/wanted by name, and what keeps one from serving', () => {
    const failure = { code: 'TQ_ERR_GROUP_FAILED' as const, message: '', at: 0, retryAt: 0 };
    expect(
      poolStatusLine([summary('shell', 0, 1, { state: 'failed', failure }), summary('echo', 2, 2)])
        .line,
    ).toBe('echo 2/2, shell 0/1 FAILED');
    expect(
      poolStatusLine([
        summary('a', 0, 1, {
          state: 'failed',
          failure: { ...failure, code: 'TQ_ERR_GROUP_PAUSED' },
        }),
        summary('b', 1, 2, { state: 'delaying' }),
        summary('c', 1, 1, { state: 'stopping' }),
      ]).line,
    ).toBe('a 0/1 PAUSED, b 1/2 restarting, c 1/1 stopping');
    expect(poolStatusLine([]).line).toBe('no groups');
  });
});
