import { describe, expect, it } from 'vitest';
import {
  plainQueueOptions,
  queueTypeArgument,
  workerQueueOptions,
} from '../../../bench/src/amqp.js';
import { parsePerfStat } from '../../../bench/src/broker-disk.js';
import { parseOptions } from '../../../bench/src/options.js';
import { queueTypeTable } from '../../../bench/src/queue-type-table.js';
import {
  allVariants,
  onQueueType,
  onQueueTypes,
  selectVariants,
} from '../../../bench/src/variants.js';
import { plainQueue, workerQueueDeclaration } from '../../../src/common/amqp/queues.js';

const plan = { tasks: 2000, rounds: 1, quick: false };

describe('bench queue types', () => {
  it("declares the ceiling's queues as taskqueue declares them, on either type", () => {
    for (const type of ['classic', 'quorum'] as const) {
      expect(plainQueueOptions(type)).toEqual(plainQueue('results', type).options);
      expect(workerQueueOptions('echo', type)).toEqual(
        workerQueueDeclaration('echo', type, undefined).options,
      );
    }
    expect(plainQueueOptions('quorum').arguments?.['x-queue-type']).toBe('quorum');
  });

  it('takes a ceiling process argument of classic or quorum, classic when absent', () => {
    expect(queueTypeArgument(undefined)).toBe('classic');
    expect(queueTypeArgument('quorum')).toBe('quorum');
    expect(() => queueTypeArgument('stream')).toThrow('expected classic or quorum');
  });

  it('names a quorum twin <variant>-quorum and its classic one back without the suffix', () => {
    const k2w1 = allVariants(plan).find((v) => v.name === 'k2-w1')!;
    const quorum = onQueueType(k2w1, 'quorum');
    expect(quorum).toEqual({ ...k2w1, name: 'k2-w1-quorum', queueType: 'quorum' });
    expect(onQueueType(quorum, 'classic')).toEqual(k2w1);
  });

  it('runs every variant on each queue type asked, in order, each name once', () => {
    const picked = selectVariants(plan, ['k2-w1', 'k2-w10-quorum']);
    expect(picked.map((v) => [v.name, v.queueType])).toEqual([
      ['k2-w1', undefined],
      ['k2-w10-quorum', 'quorum'],
    ]);
    expect(onQueueTypes(picked, ['classic', 'quorum']).map((v) => v.name)).toEqual([
      'k2-w1',
      'k2-w1-quorum',
      'k2-w10',
      'k2-w10-quorum',
    ]);
    expect(onQueueTypes(picked, ['quorum']).map((v) => v.name)).toEqual([
      'k2-w1-quorum',
      'k2-w10-quorum',
    ]);
  });

  it('parses --queue-type and --rabbitmq, refusing what it does not know', () => {
    expect(parseOptions([])?.queueTypes).toBeUndefined();
    expect(parseOptions([])?.rabbitmq).toBe('3.10');
    expect(parseOptions(['--queue-type', 'classic,quorum'])?.queueTypes).toEqual([
      'classic',
      'quorum',
    ]);
    expect(parseOptions(['--rabbitmq', '4.0'])?.rabbitmq).toBe('4.0');
    expect(() => parseOptions(['--queue-type', 'stream'])).toThrow('--queue-type stream');
    expect(() => parseOptions(['--rabbitmq', '3.13'])).toThrow('--rabbitmq 3.13');
  });

  it("reads perf stat's CSV counts by syscall", () => {
    const text = [
      '',
      '12,,syscalls:sys_enter_fsync,2003711,100.00,,',
      '4619,,syscalls:sys_enter_fdatasync,2003711,100.00,,',
      '<not counted>,,syscalls:sys_enter_fsync,0,0.00,,',
    ].join('\n');
    expect(parsePerfStat(text)).toEqual({ fsync: 12, fdatasync: 4619 });
  });
});

describe('queue-type table', () => {
  const row = (variant: string, system: 'ceiling' | 'taskqueue', tps: number, syncs: number) => ({
    variant,
    system,
    tasksPerSec: tps,
    cpuMsPerTask: { system: 1, broker: tps / 1000 },
    brokerDisk: { writeKiBPerTask: syncs * 4, syncsPerTask: { fsync: 0, fdatasync: syncs } },
  });

  it('pairs each variant with its quorum twin per system, medians over rounds', () => {
    const lines = queueTypeTable('RabbitMQ 4.0.5', [
      row('k2-w1', 'ceiling', 1000, 0),
      row('k2-w1-quorum', 'ceiling', 400, 2),
      row('k2-w1-quorum', 'ceiling', 600, 3),
      row('k2-w1-quorum', 'ceiling', 500, 2.5),
      row('k2-w10', 'taskqueue', 2000, 0),
      { variant: 'k2-w10-quorum', system: 'taskqueue' as const }, // a failed run
    ]);
    expect(lines).toEqual([
      '| RabbitMQ 4.0.5 | k2-w1 | ceiling | 1000 | 500 | ×0.5 | 1 → 0.5 | 0 → 2.5 | 0 → 10 |',
    ]);
  });
});
