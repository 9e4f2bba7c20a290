import { describe, expect, it } from 'vitest';
import { managementRows, managementTarget } from '../../../src/cli/queues/management.js';
import { knownQueues, roleOf } from '../../../src/cli/queues/our-queues.js';
import { type QueueRow, reportLines } from '../../../src/cli/queues/queue-row.js';

const naming = { input: 'taskqueue', results: ['results', 'done'] };
/** A report's `delayed` when no level queue of the delay ladder was seen. */
const NO_LADDER = {
  total: null,
  levels: [],
  due_within_ms: null,
  soonest: null,
  soonest_note: null,
};

describe('the queues of the system', () => {
  it('knows each by its name alone', () => {
    expect(roleOf('taskqueue', naming)).toBe('input');
    expect(roleOf('taskqueue.invalid', naming)).toBe('invalid');
    expect(roleOf('worker_echo', naming)).toBe('worker');
    expect(roleOf('worker_a.b', naming)).toBe('worker');
    expect(roleOf('worker_echo.dead', naming)).toBe('dead');
    expect(roleOf('worker_echo.retry.1000ms', naming)).toBe('retry');
    expect(roleOf('done', naming)).toBe('results');
    expect(roleOf('taskqueue.unroutable', naming)).toBe('unroutable');
    expect(roleOf('taskqueue.rate.build.tokens', naming)).toBe('tokens');
    expect(roleOf('taskqueue.rate.a.b.tokens', naming)).toBe('tokens');
  });

  it('refuses names that are not ours', () => {
    for (const name of [
      'other-app',
      'worker_',
      'worker_.dead',
      'worker_x.retry.0ms',
      'taskqueue.rate..tokens',
      'taskqueue.rate.a b.tokens',
      'worker_a b',
      'amq.gen-1',
    ])
      expect(roleOf(name, naming), name).toBeUndefined();
  });

  it('lists the names a passive look asks for, retry and dead queues optional', () => {
    const known = knownQueues({ ...naming, types: new Map([['echo', [1000, 2000]]]) });
    expect(known.map((q) => `${q.name}${q.optional ? '?' : ''}`)).toEqual([
      'taskqueue',
      'taskqueue.invalid',
      'worker_echo',
      'worker_echo.dead?',
      'worker_echo.retry.1000ms?',
      'worker_echo.retry.2000ms?',
      ...Array.from({ length: 23 }, (_, l) => `taskqueue.delay.${String(l).padStart(2, '0')}?`),
      'results?',
      'done?',
      'taskqueue.unroutable?',
      'taskqueue.tracker?',
      'taskqueue.tracker.invalid?',
      'taskqueue.cancels?',
    ]);
  });

  it("asks for a rate-limited type's token queue, optional", () => {
    const known = knownQueues({
      ...naming,
      types: new Map([
        ['echo', []],
        ['build', []],
      ]),
      rateLimited: new Set(['build']),
    });
    const tokens = known.filter((q) => q.role === 'tokens');
    expect(tokens).toEqual([
      { name: 'taskqueue.rate.build.tokens', role: 'tokens', optional: true },
    ]);
  });

  it('knows the tracker queues and the cancels stream by name', () => {
    expect(roleOf('taskqueue.tracker', naming)).toBe('tracker');
    expect(roleOf('taskqueue.tracker.invalid', naming)).toBe('tracker');
    expect(roleOf('taskqueue.cancels', naming)).toBe('cancels');
  });
});

describe('the management API', () => {
  it('defaults to the broker host on 15672 with the broker login, and the vhost of the URL', () => {
    const target = managementTarget(undefined, 'amqp://ops:s%40cret@rabbit.example:5672/prod');
    expect(target.base).toBe('http://rabbit.example:15672');
    expect(target.vhost).toBe('prod');
    expect(Buffer.from(target.authorization.slice(6), 'base64').toString()).toBe('ops:s@cret');
    expect(managementTarget(undefined, 'amqps://h/').base).toBe('https://h:15671');
    expect(managementTarget(undefined, 'amqp://h').vhost).toBe('/');
  });

  it('takes the URL given, with its own credentials, never keeping them in the URL', () => {
    const target = managementTarget('http://admin:pw@mgmt:8080/', 'amqp://guest:guest@h/%2F');
    expect(target.base).toBe('http://mgmt:8080');
    expect(Buffer.from(target.authorization.slice(6), 'base64').toString()).toBe('admin:pw');
    expect(target.vhost).toBe('/');
  });

  it('keeps the queues of ours, with figures and rates', () => {
    const rows = managementRows(
      [
        { name: 'other', messages_ready: 9 },
        {
          name: 'worker_echo',
          messages_ready: 2,
          messages_unacknowledged: 1,
          consumers: 1,
          message_stats: { publish_details: { rate: 3.5 }, deliver_get_details: { rate: 2 } },
        },
        { name: 'taskqueue', messages_ready: 0, messages_unacknowledged: 0, consumers: 1 },
      ],
      naming,
    );
    expect(rows).toEqual([
      {
        name: 'worker_echo',
        role: 'worker',
        exists: true,
        ready: 2,
        unacked: 1,
        consumers: 1,
        rate_in: 3.5,
        rate_out: 2,
      },
      {
        name: 'taskqueue',
        role: 'input',
        exists: true,
        ready: 0,
        unacked: 0,
        consumers: 1,
        rate_in: 0,
        rate_out: 0,
      },
    ]);
  });
});

describe('the table', () => {
  const row = (over: Partial<QueueRow>): QueueRow => ({
    name: 'taskqueue',
    role: 'input',
    exists: true,
    ready: 12,
    unacked: null,
    consumers: 1,
    rate_in: null,
    rate_out: null,
    ...over,
  });

  it('aligns the columns, shows unknowns as - and missing queues as missing', () => {
    const lines = reportLines({
      source: 'passive',
      management_url: null,
      management_error: null,
      unknown: ['unacked'],
      queues: [row({}), row({ name: 'worker_shell', role: 'worker', exists: false })],
      delayed: NO_LADDER,
    });
    expect(lines).toEqual([
      'source: passive declares (management API not used: --passive)',
      'unknown from this source: unacked',
      'QUEUE         ROLE      READY  UNACKED  CONSUMERS  IN/s  OUT/s',
      'taskqueue     input        12        -          1     -      -',
      'worker_shell  worker  missing',
    ]);
  });

  it('says the management API it used, and rates with one decimal under 10', () => {
    const lines = reportLines({
      source: 'management',
      management_url: 'http://h:15672',
      management_error: null,
      unknown: [],
      queues: [row({ unacked: 3, rate_in: 2.25, rate_out: 120.4 })],
      delayed: NO_LADDER,
    });
    expect(lines[0]).toBe('source: management API http://h:15672');
    expect(lines.at(-1)).toBe('taskqueue  input     12        3          1   2.3    120');
  });
});
