import type { GetMessage, MessageProperties } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { confirmStep, isYes } from '../../../src/cli/confirm.js';
import { checkDeadArgs, type DeadArgv, parkedQueue } from '../../../src/cli/dead/args.js';
import {
  historyEntry,
  historyOf,
  MAX_HISTORY_ENTRIES,
  MAX_HISTORY_ENTRY_CHARS,
  requeuedBy,
  requeueOptions,
} from '../../../src/cli/dead/history.js';
import { describeParked, parkedLines } from '../../../src/cli/dead/parked-task.js';
import { wanted } from '../../../src/cli/dead/requeue.js';

const argv = (over: Partial<DeadArgv>): DeadArgv => ({
  action: 'list',
  type: undefined,
  invalid: false,
  id: undefined,
  all: false,
  dryRun: false,
  yes: false,
  limit: undefined,
  json: false,
  ...over,
});

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

function message(headers: Record<string, unknown>, over: Partial<MessageProperties> = {}) {
  return {
    content: Buffer.from('{"fields":{"params":{"worker_type":"echo"}}}'),
    fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q', messageCount: 0 },
    properties: { headers, messageId: 'm-1', ...over } as MessageProperties,
  } as GetMessage;
}

const run = { id: 'run-1', from: 'worker_echo.dead', at: '2026-12-06T21:00:00.000Z' };

describe('dead arguments', () => {
  it('names one queue: TYPE or --invalid', () => {
    expect(codeOf(() => checkDeadArgs(argv({})))).toBe('TQ_ERR_CLI_USAGE');
    expect(codeOf(() => checkDeadArgs(argv({ type: 'echo', invalid: true })))).toBe(
      'TQ_ERR_CLI_USAGE',
    );
    expect(codeOf(() => checkDeadArgs(argv({ type: 'echo.dead' })))).toBe('TQ_ERR_CLI_USAGE');
    expect(parkedQueue(checkDeadArgs(argv({ type: 'echo' })), 'taskqueue')).toBe(
      'worker_echo.dead',
    );
    expect(parkedQueue(checkDeadArgs(argv({ invalid: true })), 'in')).toBe('in.invalid');
  });

  it('requeue and drop need --id or --all, not both', () => {
    for (const action of ['requeue', 'drop'] as const) {
      expect(codeOf(() => checkDeadArgs(argv({ action, type: 'echo' })))).toBe('TQ_ERR_CLI_USAGE');
      expect(
        codeOf(() => checkDeadArgs(argv({ action, type: 'echo', all: true, id: ['a'] }))),
      ).toBe('TQ_ERR_CLI_USAGE');
      expect(checkDeadArgs(argv({ action, type: 'echo', id: ['a', 'b'] })).ids).toEqual(['a', 'b']);
      expect(checkDeadArgs(argv({ action, type: 'echo', all: true })).limit).toBe(
        Number.POSITIVE_INFINITY,
      );
    }
  });

  it('refuses options that mean nothing for the action, and a bad --limit', () => {
    expect(codeOf(() => checkDeadArgs(argv({ type: 'echo', all: true })))).toBe('TQ_ERR_CLI_USAGE');
    expect(codeOf(() => checkDeadArgs(argv({ type: 'echo', dryRun: true })))).toBe(
      'TQ_ERR_CLI_USAGE',
    );
    expect(
      codeOf(() => checkDeadArgs(argv({ action: 'requeue', type: 'echo', all: true, yes: true }))),
    ).toBe('TQ_ERR_CLI_USAGE');
    expect(
      codeOf(() => checkDeadArgs(argv({ action: 'drop', type: 'echo', all: true, json: true }))),
    ).toBe('TQ_ERR_CLI_USAGE');
    for (const limit of [0, -1, 1.5, Number.NaN])
      expect(codeOf(() => checkDeadArgs(argv({ type: 'echo', limit })))).toBe('TQ_ERR_CLI_USAGE');
    expect(checkDeadArgs(argv({ type: 'echo' })).limit).toBe(100);
  });
});

describe('choosing parked tasks', () => {
  it('takes a task named by message id, else by correlation id, and records the names met', () => {
    const request = checkDeadArgs(argv({ action: 'requeue', type: 'echo', id: ['m-1', 'c-2'] }));
    const found = new Set<string>();
    expect(wanted(request, message({}), found)).toBe(true);
    expect(wanted(request, message({}, { messageId: 'x', correlationId: 'c-2' }), found)).toBe(
      true,
    );
    expect(wanted(request, message({}, { messageId: 'other' }), found)).toBe(false);
    expect([...found].sort()).toEqual(['c-2', 'm-1']);
  });
});

describe('the history header', () => {
  const parked = {
    'x-taskqueue-error': 'poison: 3 consumers died',
    'x-taskqueue-error-code': 'TQ_ERR_TASK_POISON',
    'x-taskqueue-crashes': 3,
    'x-taskqueue-crash-log': ['one', 'two', 'three'],
    'x-taskqueue-attempt': 2,
    'x-taskqueue-parked-at': '2026-12-06T20:00:00.000Z',
    'x-delivery-count': 4,
    'x-mine': 'stays',
  };

  it('clears the counts and the reason, keeps them as one entry, and keeps the rest', () => {
    const options = requeueOptions(message(parked).properties, run);
    expect(options.messageId).toBe('m-1');
    expect(options.persistent).toBe(true);
    expect(options.headers).toEqual({
      'x-mine': 'stays',
      'x-taskqueue-history': [expect.any(String)],
      'x-taskqueue-run': 2,
    });
    expect(JSON.parse(options.headers!['x-taskqueue-history'][0])).toEqual({
      requeued_at: run.at,
      from: run.from,
      run: run.id,
      error: 'poison: 3 consumers died',
      error_code: 'TQ_ERR_TASK_POISON',
      crashes: 3,
      crash_log: ['one', 'two', 'three'],
      attempt: 2,
      parked_at: '2026-12-06T20:00:00.000Z',
    });
  });

  it('sends the next run of the parked one', () => {
    const third = requeueOptions(message({ ...parked, 'x-taskqueue-run': 2 }).properties, run);
    expect(third.headers!['x-taskqueue-run']).toBe(3);
    const garbled = requeueOptions(message({ ...parked, 'x-taskqueue-run': 'x' }).properties, run);
    expect(garbled.headers!['x-taskqueue-run']).toBe(2);
  });

  it('appends to an earlier history and keeps only the newest entries', () => {
    const earlier = Array.from({ length: MAX_HISTORY_ENTRIES }, (_, n) => `{"n":${n}}`);
    const properties = message({ ...parked, 'x-taskqueue-history': earlier }).properties;
    const history = requeueOptions(properties, run).headers!['x-taskqueue-history'] as string[];
    expect(history).toHaveLength(MAX_HISTORY_ENTRIES);
    expect(history[0]).toBe('{"n":1}');
    expect(JSON.parse(history.at(-1)!).run).toBe('run-1');
  });

  it('keeps an entry within its bound by dropping the oldest crash lines', () => {
    const log = Array.from({ length: 100 }, (_, n) => `crash ${n} ${'x'.repeat(200)}`);
    const entry = historyEntry(
      message({ ...parked, 'x-taskqueue-crash-log': log }).properties,
      run,
    );
    expect(entry.length).toBeLessThanOrEqual(MAX_HISTORY_ENTRY_CHARS);
    const parsed = JSON.parse(entry);
    expect(parsed.crash_log.at(-1)).toBe(log.at(-1));
    expect(parsed.crash_log_dropped + parsed.crash_log.length).toBe(100);
  });

  it('knows a task this run requeued already', () => {
    const options = requeueOptions(message(parked).properties, run);
    const back = message(options.headers as Record<string, unknown>).properties;
    expect(requeuedBy(back, run)).toBe(true);
    expect(requeuedBy(back, { ...run, id: 'run-2' })).toBe(false);
    expect(historyOf(message({ 'x-taskqueue-history': [1, 'a'] }).properties)).toEqual(['a']);
  });
});

describe('a parked task as listed', () => {
  it('says id, type, reason, code, crashes and when it was parked', () => {
    const task = describeParked(
      message(
        {
          'x-taskqueue-error': 'poison',
          'x-taskqueue-error-code': 'TQ_ERR_TASK_POISON',
          'x-taskqueue-crashes': 2,
          'x-taskqueue-crash-log': ['a', 'b'],
          'x-taskqueue-parked-at': '2026-12-06T20:00:00.000Z',
        },
        { timestamp: 1_796_580_000, correlationId: 'c-1' },
      ),
      'echo',
    );
    expect(task).toMatchObject({
      message_id: 'm-1',
      correlation_id: 'c-1',
      type: 'echo',
      reason: 'poison',
      code: 'TQ_ERR_TASK_POISON',
      crashes: 2,
      crash_log: ['a', 'b'],
      parked_at: '2026-12-06T20:00:00.000Z',
      published_at: new Date(1_796_580_000_000).toISOString(),
      requeued: 0,
    });
    const lines = parkedLines(task, 1);
    expect(lines[0]).toBe('1. id m-1  correlation c-1  type echo  44 bytes');
    expect(lines).toContain('   crash: b');
  });

  it('on .invalid: the type the body names, and the broker dead-lettering time as a fallback', () => {
    const task = describeParked(
      message({ 'x-death': [{ time: { '!': 'timestamp', value: 1_796_580_000 } }] }),
      undefined,
    );
    expect(task.type).toBe('echo');
    expect(task.parked_at).toBe(new Date(1_796_580_000_000).toISOString());
    expect(task.code).toBeNull();
  });
});

describe('confirmation', () => {
  it('proceeds with --yes, asks on a terminal, refuses otherwise', () => {
    expect(confirmStep(true, false)).toBe('proceed');
    expect(confirmStep(false, true)).toBe('ask');
    expect(confirmStep(false, false)).toBe('refuse');
  });

  it('reads y and yes as yes, anything else as no', () => {
    for (const answer of ['y', 'Y', 'yes', ' YES ']) expect(isYes(answer)).toBe(true);
    for (const answer of ['', 'n', 'no', 'yess', 'sure']) expect(isYes(answer)).toBe(false);
  });
});
