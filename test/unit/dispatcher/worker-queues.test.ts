import type { ChannelModel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/common/logger.js';
import { WorkerQueues } from '../../../src/dispatcher/worker-queues.js';

/**
 * Just enough of a connection for declarations: every assertQueue succeeds, and is counted; the
 * delay ladder's binding of each queue succeeds too.
 */
function fakeModel(declared: string[], bound: string[] = []): ChannelModel {
  const channel = {
    on: () => channel,
    once: () => channel,
    assertQueue: async (name: string) => {
      declared.push(name);
      return { queue: name, messageCount: 0, consumerCount: 0 };
    },
    assertExchange: async (exchange: string) => ({ exchange }),
    bindQueue: async (queue: string, exchange: string, key: string) => {
      bound.push(`${queue} ${exchange} ${key}`);
      return {};
    },
  };
  return { createChannel: async () => channel } as unknown as ChannelModel;
}

describe('WorkerQueues', () => {
  it('remembers at most its limit of types, forgetting the oldest first', async () => {
    const declared: string[] = [];
    const queues = new WorkerQueues(fakeModel(declared), 'classic', createLogger('t', 'silent'), 3);
    for (const type of ['a', 'b', 'c', 'd', 'e']) await queues.ensure(type);
    expect(queues.size).toBe(3);
    expect(['a', 'b', 'c', 'd', 'e'].map((t) => queues.declared(t))).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
    // A forgotten type is declared again when its next task comes.
    await queues.ensure('a');
    expect(declared).toEqual([
      'worker_a',
      'worker_b',
      'worker_c',
      'worker_d',
      'worker_e',
      'worker_a',
    ]);
    expect(queues.size).toBe(3);
    expect(queues.declared('c')).toBe(false);
  });

  it('binds each queue it declares to the delay ladder and to the direct path', async () => {
    const bound: string[] = [];
    const queues = new WorkerQueues(fakeModel([], bound), 'classic', createLogger('t', 'silent'));
    await queues.ensure('echo');
    expect(bound).toContain('worker_echo taskqueue.types echo');
    expect(bound.filter((b) => b.startsWith('worker_echo taskqueue.delay.deliver '))).toHaveLength(
      1,
    );
  });
});
