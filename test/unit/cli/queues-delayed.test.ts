import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../../src/api/store/types.js';
import {
  DELAYED_ROW_NAME,
  delayedLines,
  dueText,
  groupDelayQueues,
  soonestDelayed,
  spanText,
} from '../../../src/cli/queues/delayed.js';
import { managementRows } from '../../../src/cli/queues/management.js';
import { roleOf } from '../../../src/cli/queues/our-queues.js';
import { type QueueRow, reportLines } from '../../../src/cli/queues/queue-row.js';

const naming = { input: 'taskqueue', results: ['results'] };
const NOW = Date.parse('2026-12-07T12:00:00.000Z');

const row = (name: string, ready: number | null, over: Partial<QueueRow> = {}): QueueRow => ({
  name,
  role: roleOf(name, naming)!,
  exists: true,
  ready,
  unacked: 0,
  consumers: 0,
  rate_in: 0,
  rate_out: 0,
  ...over,
});

const delayedTask = (id: string, due: string, over: Partial<TaskRecord> = {}): TaskRecord => ({
  id,
  type: 'echo',
  types: ['echo'],
  state: 'delayed',
  source: 'api',
  attempts: [],
  responses: [],
  notBefore: due,
  createdAt: '2026-12-07T11:00:00.000Z',
  updatedAt: '2026-12-07T11:00:00.000Z',
  ...over,
});

describe('the delay ladder in taskqueue queues', () => {
  it('knows the level queues by name, and the old retry queues still', () => {
    expect(roleOf('taskqueue.delay.00', naming)).toBe('delayed');
    expect(roleOf('taskqueue.delay.22', naming)).toBe('delayed');
    expect(roleOf('worker_echo.retry.5000ms', naming)).toBe('retry');
    // The ladder's exchanges are not queues; a name past the ladder is not ours.
    expect(roleOf('taskqueue.delay.x05', naming)).toBeUndefined();
    expect(roleOf('taskqueue.delay.5', naming)).toBeUndefined();
  });

  it('groups the level queues as one delayed row where the first was, with their sums', () => {
    const rows = managementRows(
      [
        { name: 'taskqueue', messages_ready: 1 },
        { name: 'taskqueue.delay.00', messages_ready: 0 },
        { name: 'taskqueue.delay.07', messages_ready: 3, messages_unacknowledged: 0 },
        { name: 'taskqueue.delay.12', messages_ready: 2 },
        { name: 'worker_echo', messages_ready: 4 },
        { name: 'worker_echo.retry.1000ms', messages_ready: 1 },
      ],
      naming,
    );
    const { rows: grouped, delayed } = groupDelayQueues(rows);
    expect(grouped.map((r) => [r.name, r.role, r.ready])).toEqual([
      ['taskqueue', 'input', 1],
      [DELAYED_ROW_NAME, 'delayed', 5],
      ['worker_echo', 'worker', 4],
      ['worker_echo.retry.1000ms', 'retry', 1],
    ]);
    expect(delayed).toEqual({
      total: 5,
      levels: [
        { level: 7, queue: 'taskqueue.delay.07', holds_ms: 12_800, tasks: 3 },
        { level: 12, queue: 'taskqueue.delay.12', holds_ms: 409_600, tasks: 2 },
      ],
      // Level 12 and all below: (2^13 - 1) × 100 ms.
      due_within_ms: 819_100,
      soonest: null,
      soonest_note: null,
    });
  });

  it('leaves rows as they are without a ladder, and sums unknowns as unknown', () => {
    const plain = [row('taskqueue', 1)];
    expect(groupDelayQueues(plain)).toEqual({
      rows: plain,
      delayed: { total: null, levels: [], due_within_ms: null, soonest: null, soonest_note: null },
    });
    const passive = groupDelayQueues([
      row('taskqueue.delay.03', 2, { unacked: null, rate_in: null, rate_out: null }),
      row('taskqueue.delay.04', 0, { exists: false, ready: null, unacked: null }),
    ]);
    expect(passive.rows).toEqual([
      expect.objectContaining({ name: DELAYED_ROW_NAME, ready: 2, unacked: null, rate_in: null }),
    ]);
    expect(passive.delayed.total).toBe(2);
  });

  it('lists the soonest delayed tasks, at most 10, by due time', () => {
    const tasks = Array.from({ length: 12 }, (_, i) =>
      delayedTask(`t${i}`, new Date(NOW + (12 - i) * 60_000).toISOString()),
    );
    tasks.push(delayedTask('ran', '2026-12-07T12:00:01Z', { state: 'running' }));
    const soonest = soonestDelayed(tasks);
    expect(soonest).toHaveLength(10);
    expect(soonest[0]).toEqual({ id: 't11', type: 'echo', due: '2026-12-07T12:01:00.000Z' });
    expect(soonest.map((t) => t.id)).not.toContain('ran');
    expect(soonest.map((t) => t.id)).not.toContain('t0');
  });

  it('says due times and spans for a person', () => {
    expect(dueText('2026-12-07T12:04:05.000Z', NOW)).toBe('due 12:04:05Z, in 4m');
    expect(dueText('2026-12-09T08:00:00.000Z', NOW)).toBe('due 2026-12-09 08:00:00Z, in 1d 20h');
    expect(dueText('2026-12-07T11:59:00.000Z', NOW)).toBe('due 11:59:00Z, now');
    expect(spanText(800)).toBe('800ms');
    expect(spanText(12_800)).toBe('12.8s');
    expect(spanText(409_600)).toBe('6m 50s');
  });

  it('prints the ladder line and the soonest tasks after the table', () => {
    const { rows, delayed } = groupDelayQueues([
      row('taskqueue', 0),
      row('taskqueue.delay.07', 3),
      row('taskqueue.delay.12', 2),
    ]);
    delayed.soonest = [
      { id: 'a1', type: 'echo', due: '2026-12-07T12:00:05.000Z' },
      { id: 'b2', type: 'report', due: '2026-12-07T12:04:00.000Z' },
    ];
    const lines = reportLines(
      {
        source: 'management',
        management_url: 'http://h:15672',
        management_error: null,
        unknown: [],
        queues: rows,
        delayed,
      },
      NOW,
    );
    expect(lines).toEqual([
      'source: management API http://h:15672',
      'QUEUE              ROLE     READY  UNACKED  CONSUMERS  IN/s  OUT/s',
      'taskqueue          input        0        0          0   0.0    0.0',
      'taskqueue.delay.*  delayed      5        0          0   0.0    0.0',
      'delayed: 5 tasks in levels 07-12 (hold 12.8s to 6m 50s each); all due within 13m 39s',
      'soonest delayed tasks (API):',
      '  a1  echo    due 12:00:05Z, in 5s',
      '  b2  report  due 12:04:00Z, in 4m',
    ]);
  });

  it('says how to list them when no API was asked, and when the ladder is empty', () => {
    expect(
      delayedLines(
        {
          total: 0,
          levels: [],
          due_within_ms: null,
          soonest: null,
          soonest_note: 'delayed tasks: `taskqueue tasks --state delayed` lists them',
        },
        NOW,
      ),
    ).toEqual([
      'delayed: none waiting in the delay ladder',
      'delayed tasks: `taskqueue tasks --state delayed` lists them',
    ]);
  });
});
