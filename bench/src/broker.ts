/**
 * The broker both systems share: `TASKQUEUE_AMQP_URL` when set, else a private RabbitMQ node
 * (never the shared service on 5672: other work on it would be in the figures, and the bench
 * deletes and declares its queues).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RabbitNode } from '@taskqueue/dev/rabbitmq-node';
import {
  connect,
  DURABLE,
  INPUT_QUEUE,
  RESULTS_QUEUE,
  TRACKER_QUEUE,
  workerQueue,
} from './amqp.js';
import { treeOf } from './proc-sampler.js';
import { unlessFailed } from './processes.js';

export interface Broker {
  url: string;
  /** What it is, for the report. */
  description: string;
  /** The broker's processes right now (empty for an external broker: its CPU is not ours to see). */
  pids(): number[];
  close(): Promise<void>;
}

export async function openBroker(log: (line: string) => void): Promise<Broker> {
  const external = process.env.TASKQUEUE_AMQP_URL;
  if (external) {
    return {
      url: external,
      description: `TASKQUEUE_AMQP_URL (${new URL(external).host}; broker CPU not measured)`,
      pids: () => [],
      close: async () => {},
    };
  }
  const node = await RabbitNode.start({ log });
  return {
    url: node.url,
    description: `private node ${node.nodeName} on port ${node.port}`,
    pids: () => treeOf(node.pid),
    close: () => node.destroy(),
  };
}

/** Every queue a run of either system may leave behind. */
function queuesOf(type: string): string[] {
  return [
    INPUT_QUEUE,
    `${INPUT_QUEUE}.invalid`,
    workerQueue(type),
    `${workerQueue(type)}.dead`,
    RESULTS_QUEUE,
    'taskqueue.unroutable',
    TRACKER_QUEUE,
  ];
}

/**
 * Each run starts from empty queues, declared as both systems declare them, so that nothing a
 * previous run left (a redelivered task, a late result) is counted again.
 */
export async function resetQueues(url: string, type: string): Promise<void> {
  const model = await connect(url, 'bench-admin');
  try {
    const channel = await model.createChannel();
    for (const queue of queuesOf(type)) await channel.deleteQueue(queue);
    // The tracker queue too: the readiness check asks for its consumers before any program of
    // a tracking variant declared it. Unbound, it receives nothing in the other variants.
    for (const queue of [INPUT_QUEUE, workerQueue(type), RESULTS_QUEUE, TRACKER_QUEUE])
      await channel.assertQueue(queue, DURABLE);
    await channel.close();
  } finally {
    await model.close();
  }
}

/**
 * Waits until each queue has its consumers: the system under test is then ready, whatever its
 * own logs say. `failed` rejects early (a process of the system died meanwhile).
 */
export async function waitForConsumers(
  url: string,
  expected: Record<string, number>,
  timeoutMs: number,
  failed: Promise<never>,
): Promise<void> {
  const model = await connect(url, 'bench-admin');
  let stop = false;
  const poll = async () => {
    const channel = await model.createChannel();
    const deadline = Date.now() + timeoutMs;
    while (!stop) {
      let missing = '';
      for (const [queue, count] of Object.entries(expected)) {
        const { consumerCount } = await channel.checkQueue(queue);
        if (consumerCount < count) missing += ` ${queue} ${consumerCount}/${count}`;
      }
      if (!missing) return;
      if (Date.now() > deadline)
        throw new Error(`not ready after ${timeoutMs} ms; consumers:${missing}`);
      await sleep(100);
    }
  };
  try {
    await unlessFailed(poll(), failed);
  } finally {
    stop = true;
    await model.close().catch(() => {});
  }
}
