import { describe, expect, it } from 'vitest';
import { statusExit, statusSockets } from '../../../src/cli/status.js';
import { readAnswer, type StatusAnswer } from '../../../src/cli/status-client.js';
import { bytes, duration, renderStatus, table } from '../../../src/cli/status-render.js';
import { parseConfigText } from '../../../src/common/config/load.js';
import { buildDispatcherStatus } from '../../../src/dispatcher/status.js';
import { buildPoolStatus } from '../../../src/workerpool/status/snapshot.js';

const T0 = Date.parse('2026-12-06T20:00:00.000Z');

const pool = buildPoolStatus(
  [
    {
      name: 'echo',
      type: 'echo',
      instance: undefined,
      user: 'builder',
      wanted: 2,
      running: 1,
      state: 'serving',
      failure: undefined,
      restartAt: undefined,
      restarts: { total: 1, byCause: { killed: 1 } },
      children: [
        {
          pid: 101,
          state: 'running',
          slot: 0,
          startedAt: T0 - 7_380_000,
          restarts: 1,
          held: new Map([['echo\0t-42', T0 - 3_000]]),
          waiting: new Map([['echo\0t-43', T0 - 1_000]]),
          settled: 1520,
        },
        {
          pid: 102,
          state: 'starting',
          slot: 1,
          startedAt: T0,
          restarts: 0,
          held: new Map(),
          waiting: new Map(),
          settled: 0,
        },
      ],
    },
    {
      name: 'shell',
      type: 'shell',
      instance: undefined,
      user: undefined,
      wanted: 1,
      running: 0,
      state: 'failed',
      failure: {
        code: 'TQ_ERR_GROUP_FAILED',
        message: 'GROUP FAILED: more',
        at: T0,
        retryAt: T0 + 14_000,
      },
      restartAt: undefined,
      restarts: { total: 6, byCause: { startup_failure: 6 } },
      children: [],
    },
  ],
  {
    now: T0,
    pid: 100,
    startedAt: T0 - 7_400_000,
    rss: (pid) => (pid === 101 ? 47_290_368 : undefined),
  },
);
const dispatcher = buildDispatcherStatus(
  {
    queue: 'taskqueue',
    everConnected: true,
    connected: true,
    consuming: true,
    paused: false,
    stopping: false,
    bytesInHand: 0,
    maxBytesInFlight: 64 * 1024 ** 2,
    counts: { received: 10, forwarded: 8, parked: 2 },
    declaredTypes: 2,
  },
  { now: T0, pid: 90, startedAt: T0 - 60_000 },
);
const answer = (status: object): StatusAnswer =>
  ({ socket: '/s', status }) as unknown as StatusAnswer;
const unreachable: StatusAnswer = {
  socket: '/run/x.sock',
  error: { code: 'TQ_ERR_STATUS_UNREACHABLE', message: 'gone' },
};

describe('taskqueue status, rendered', () => {
  it('prints the groups, the failure and its retry, the children, the totals and the dispatcher', () => {
    expect(renderStatus([answer(pool), answer(dispatcher), unreachable])).toEqual([
      'workerpool (pid 100, up 2h03m): 2 groups, 1/3 children running, 1 FAILED',
      '  GROUP  USER     CHILDREN  STATE    RESTARTS',
      '  echo   builder  1/2       serving  1 (killed 1)',
      '  shell  (pool)   0/1       FAILED   6 (startup_failure 6)',
      '  shell: TQ_ERR_GROUP_FAILED: GROUP FAILED: more',
      '  shell: retried at 2026-12-06 20:00:14Z (in 14s), or now by a reload',
      '',
      '  GROUP  SLOT  PID  STATE     UP     DONE  RSS       RESTARTS  IN HAND',
      '  echo   0     101  running   2h03m  1520  45.1 MiB  1         t-42 (echo, 3s), t-43 (echo, waiting 1s)',
      '  echo   1     102  starting  0s     0     -         0         -',
      'total: 1/3 children, 2 tasks in hand, 1520 done, 45.1 MiB RSS, 7 restarts',
      '',
      'dispatcher (pid 90, up 1m00s): consuming taskqueue; 10 received, 8 forwarded, 2 parked; 2 worker queues; 0 B of 64.0 MiB in hand',
      '',
      '/run/x.sock: UNREACHABLE [TQ_ERR_STATUS_UNREACHABLE]',
    ]);
  });

  it('says which groups of the config do not run, and why', () => {
    const refused = buildPoolStatus([], { now: T0, pid: 1, startedAt: T0, rss: () => undefined }, [
      {
        name: 'ghost',
        type: 'ghost',
        code: 'TQ_ERR_PLUGIN_MISSING',
        reason: 'no plugin provides it',
      },
    ]);
    expect(renderStatus([answer(refused)])).toEqual([
      'workerpool (pid 1, up 0s): 0 groups, 0/0 children running, 1 REFUSED',
      '  ghost: REFUSED: TQ_ERR_PLUGIN_MISSING: no plugin provides it',
      'total: 0/0 children, 0 tasks in hand, 0 done, 0 B RSS, 0 restarts',
    ]);
  });

  it('formats durations, sizes and tables', () => {
    expect([0, 59, 60, 245, 3_600, 7_380, 86_400 + 4 * 3_600].map(duration)).toEqual([
      '0s',
      '59s',
      '1m00s',
      '4m05s',
      '1h00m',
      '2h03m',
      '1d04h',
    ]);
    expect([0, 512, 1024, 47_290_368, 3 * 1024 ** 3].map(bytes)).toEqual([
      '0 B',
      '512 B',
      '1.0 KiB',
      '45.1 MiB',
      '3.0 GiB',
    ]);
    expect(table(['A', 'LONG'], [['xyz', '1']])).toEqual(['  A    LONG', '  xyz  1']);
  });
});

describe('taskqueue status, exit status and sockets', () => {
  it('77 when refused, else 69 when a daemon is not reached, else 1 when a group failed', () => {
    const denied: StatusAnswer = {
      socket: '/a',
      error: { code: 'TQ_ERR_STATUS_DENIED', message: '' },
    };
    expect(statusExit([answer(pool), denied, unreachable])).toBe(77);
    expect(statusExit([answer(pool), unreachable])).toBe(69);
    expect(statusExit([answer(pool), answer(dispatcher)])).toBe(1);
    const healthy = { ...pool, totals: { ...pool.totals, failedGroups: 0 } };
    expect(statusExit([answer(healthy), answer(dispatcher)])).toBe(0);
    const refused = { ...healthy, totals: { ...healthy.totals, refusedGroups: 1 } };
    expect(statusExit([answer(refused), answer(dispatcher)])).toBe(1);
  });

  it("asks --socket's sockets, else the config's, the pool's first, none when off", () => {
    const config = parseConfigText('[dispatcher]\nstatus_socket =\n', 'x.ini', {});
    expect(statusSockets(config, undefined)).toEqual(['/run/taskqueue/workerpool/status.sock']);
    expect(statusSockets(parseConfigText('', 'x.ini', {}), [])).toEqual([
      '/run/taskqueue/workerpool/status.sock',
      '/run/taskqueue/dispatcher/status.sock',
    ]);
    expect(statusSockets(undefined, ['/a', '/b'])).toEqual(['/a', '/b']);
  });

  it('takes only a status of its protocol as an answer', () => {
    const read = (text: string) => readAnswer('/s', Buffer.from(text));
    expect(read('{"ok":true,"protocol":1,"status":{"daemon":"dispatcher"}}\n')).toEqual({
      socket: '/s',
      status: { daemon: 'dispatcher' },
    });
    expect(
      read('{"ok":false,"protocol":1,"code":"TQ_ERR_STATUS_REQUEST","message":"no"}'),
    ).toMatchObject({
      error: { code: 'TQ_ERR_STATUS_REQUEST' },
    });
    for (const text of [
      '',
      'HTTP/1.1 400',
      '{"ok":true,"protocol":2,"status":{"daemon":"x"}}',
      '{"ok":true,"protocol":1}',
      '{"ok":false,"protocol":1,"code":"EVIL","message":"x"}',
    ])
      expect(read(text)).toMatchObject({ error: { code: 'TQ_ERR_STATUS_UNREACHABLE' } });
  });
});
