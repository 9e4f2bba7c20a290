import { describe, expect, it } from 'vitest';
import { bullmqResult } from '../../../bench/src/anchors/bullmq-transport.js';
import {
  CELERY_TASK,
  celeryResult,
  celeryTask,
} from '../../../bench/src/anchors/celery-framing.js';
import { redisArgs } from '../../../bench/src/anchors/redis-server.js';
import { TYPES_EXCHANGE } from '../../../bench/src/anchors/types-exchange.js';
import { parseOptions } from '../../../bench/src/options.js';
import { directRoute, type RunRow } from '../../../bench/src/run.js';
import { parseSystems, SYSTEM_KINDS, systemsOf } from '../../../bench/src/system-kinds.js';
import { overallTable, pathNote, summarize, variantTable } from '../../../bench/src/table.js';
import { allVariants, type Variant } from '../../../bench/src/variants.js';
import { resultFields, taskFactory } from '../../../bench/src/workitem.js';

const variants = allVariants({ tasks: 1000, rounds: 1, quick: false });
const named = (name: string): Variant => variants.find((v) => v.name === name)!;

describe('bench systems', () => {
  it('takes known systems in round order, each once', () => {
    expect(parseSystems('bullmq-always, taskqueue,ceiling')).toEqual([
      'ceiling',
      'taskqueue',
      'bullmq-always',
    ]);
    expect(parseSystems('onehop,onehop')).toEqual(['onehop']);
  });

  it('refuses an unknown system or none', () => {
    expect(() => parseSystems('ceiling,sidekiq')).toThrow('unknown system sidekiq');
    expect(() => parseSystems(' , ')).toThrow('--systems needs at least one system');
  });

  it('runs the anchors only in the variants that name them', () => {
    const all = [...SYSTEM_KINDS];
    expect(systemsOf(all, true)).toEqual(all);
    expect(systemsOf(all, undefined)).toEqual(['ceiling', 'taskqueue']);
    expect(systemsOf(['celery'], false)).toEqual([]);
    expect(named('k2-w10-path').anchored && named('k2-w1').anchored).toBe(true);
    expect(named('k2-w10-tracking').anchored).toBeUndefined();
  });

  it('defaults to every system, and --quick to the ceiling and taskqueue', () => {
    expect(parseOptions([])?.systems).toEqual([...SYSTEM_KINDS]);
    expect(parseOptions(['--quick'])?.systems).toEqual(['ceiling', 'taskqueue']);
    expect(parseOptions(['--systems', 'celery'])?.systems).toEqual(['celery']);
    expect(() => parseOptions(['--systems', 'nats'])).toThrow('unknown system nats');
  });

  it('publishes to the types exchange for the one-hop limit and the -path variants only', () => {
    const route = { exchange: TYPES_EXCHANGE, routingKey: 'echo' };
    expect(directRoute('onehop', named('k2-w10'))).toEqual(route);
    expect(directRoute('taskqueue', named('k2-w10-path'))).toEqual(route);
    expect(directRoute('taskqueue', named('k2-w10'))).toBeUndefined();
    expect(directRoute('ceiling', named('k2-w10-path'))).toBeUndefined();
    expect(directRoute('celery', named('k2-w10-path'))).toBeUndefined();
  });
});

describe('Celery framing', () => {
  const workitem = taskFactory('r1', 200, 999)(7);

  it('frames the workitem as the one argument of a protocol 2 task, result to `results`', () => {
    const { content, properties } = celeryTask('r1-7', workitem);
    const [args, kwargs, embed] = JSON.parse(content.toString()) as [unknown[], object, object];
    expect(args).toEqual([JSON.parse(workitem.toString())]);
    expect(kwargs).toEqual({});
    expect(embed).toEqual({ callbacks: null, errbacks: null, chain: null, chord: null });
    expect(properties).toMatchObject({
      persistent: true,
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      correlationId: 'r1-7',
      replyTo: 'results',
      headers: { lang: 'py', task: CELERY_TASK, id: 'r1-7', root_id: 'r1-7', retries: 0 },
    });
  });

  it('reads the run and seq from a successful result, nothing from a failure', () => {
    const ok = Buffer.from(
      `{"status":"SUCCESS","result":${workitem},"traceback":null,"children":[],"task_id":"r1-7"}`,
    );
    expect(celeryResult(ok)).toEqual(resultFields(workitem));
    expect(celeryResult(ok)).toEqual({ run: 'r1', seq: 7 });
    const failed = Buffer.from('{"status":"FAILURE","result":{"exc_type":"KeyError"}}');
    expect(celeryResult(failed)).toEqual({ run: undefined, seq: undefined });
  });
});

describe('BullMQ anchors', () => {
  it("reads the run and seq from a job's return value", () => {
    const workitem = JSON.parse(taskFactory('r2', 200, 99)(42).toString()) as unknown;
    expect(bullmqResult(workitem)).toEqual({ run: 'r2', seq: 42 });
    expect(bullmqResult(null)).toEqual({ run: undefined, seq: undefined });
  });

  it('starts redis-server with AOF at the fsync asked for and no snapshots', () => {
    const args = redisArgs(20_210, '/tmp/x', 'always');
    const value = (key: string) => args[args.indexOf(key) + 1];
    expect(value('--appendonly')).toBe('yes');
    expect(value('--appendfsync')).toBe('always');
    expect(value('--save')).toBe('');
    expect(value('--dir')).toBe('/tmp/x');
    expect(value('--bind')).toBe('127.0.0.1');
    expect(redisArgs(20_210, '/tmp/x', 'everysec')).toContain('everysec');
  });
});

function row(
  system: RunRow['system'],
  variant: Variant,
  tasksPerSec: number,
  routerMs = 0,
): RunRow {
  return {
    type: 'run',
    at: '2026-01-01T00:00:00Z',
    variant: variant.name,
    system,
    round: 1,
    k: variant.k,
    w: variant.w,
    payloadBytes: variant.payloadBytes,
    window: variant.window,
    tasks: 1000,
    tasksPerSec,
    latencyMs: { p50: 1000 / tasksPerSec, p99: 2000 / tasksPerSec, max: 3000 / tasksPerSec },
    cpuMsPerTask: { system: 0.5, broker: 0.3 },
    cpuMs: { dispatcher: routerMs, child1: 200 },
    loadCpuMs: 100,
  };
}

describe('tables with anchors', () => {
  const v = named('k2-w10-path');
  const rows = [
    row('ceiling', v, 1000),
    row('taskqueue', v, 1200),
    row('onehop', v, 1500),
    row('celery', v, 300),
    row('bullmq-everysec', v, 800),
  ];
  const kinds = ['ceiling', 'taskqueue', 'onehop', 'celery', 'bullmq-everysec'] as const;

  it("prints taskqueue's ratio to the ceiling and to each anchor that ran", () => {
    const text = variantTable(v, rows, kinds);
    expect(text).toContain('ratio taskqueue/ceiling: tasks/s ×1.20');
    expect(text).toContain('ratio taskqueue/onehop: tasks/s ×0.80');
    expect(text).toContain('ratio taskqueue/celery: tasks/s ×4.00');
    expect(text).toContain('ratio taskqueue/bullmq-everysec: tasks/s ×1.50');
    expect(text).not.toContain('bullmq-always');
    expect(text).toContain('load 100 µs');
  });

  it('gives one summary line per variant with a column per anchor', () => {
    const lines = overallTable([v, named('k2-w10')], rows, [...SYSTEM_KINDS]).split('\n');
    const header = lines.find((l) => l.startsWith('variant'))!;
    expect(header).toContain('tq/onehop');
    expect(header).toContain('tq/celery');
    expect(header).not.toContain('bullmq-always');
    const line = lines.find((l) => l.startsWith('k2-w10-path'))!;
    expect(line.split(/\s+/).slice(1)).toEqual([
      '1000',
      '1200',
      '1500',
      '300',
      '800',
      '×1.20',
      '×0.83',
      '×1.00',
      '×0.80',
      '×4.00',
      '×1.50',
    ]);
    // A variant without rows (not run) has no line.
    expect(lines.some((l) => l.startsWith('k2-w10 '))).toBe(false);
  });

  it('says when a -path run went through the dispatcher', () => {
    const direct = summarize([row('taskqueue', v, 1200, 0)]);
    const forwarded = summarize([row('taskqueue', v, 1200, 150)]);
    expect(pathNote(v, direct)).toBeUndefined();
    expect(pathNote(v, forwarded)).toContain('not the direct path');
    expect(pathNote(named('k2-w10'), forwarded)).toBeUndefined();
  });

  it("gives the broker's reductions a task, the median of the rounds that have them", () => {
    const rounds = [
      { ...row('ceiling', v, 1000), brokerReductions: 6500 },
      { ...row('ceiling', v, 1000), brokerReductions: 6600 },
      { ...row('ceiling', v, 1000), brokerReductions: 6900 },
      row('ceiling', v, 1000),
    ];
    expect(summarize(rounds)?.brokerReductions).toBe(6600);
    const text = variantTable(v, [...rounds, row('taskqueue', v, 1200)], ['ceiling', 'taskqueue']);
    expect(text).toMatch(/ceiling [^|]*, broker 6600 reductions \|/);
    // Where the broker could not be asked (an external broker, BullMQ's Redis): nothing.
    expect(text).toMatch(/taskqueue [^|]*load 100 µs$/m);
  });
});
