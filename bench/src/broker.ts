/**
 * The broker both systems share: `TASKQUEUE_AMQP_URL` when set, else a private RabbitMQ node
 * (never the shared service on 5672: other work on it would be in the figures, and the bench
 * deletes and declares its queues).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RabbitNode } from '@taskqueue/dev/rabbitmq-node';
import {
  connect,
  INPUT_QUEUE,
  plainQueueOptions,
  type QueueType,
  RESULTS_QUEUE,
  TRACKER_QUEUE,
  workerQueue,
  workerQueueOptions,
} from './amqp.js';
import { startTrixieRabbit } from './broker-trixie.js';
import type { RabbitmqVersion } from './options.js';
import { treeOf } from './proc-sampler.js';
import { unlessFailed } from './processes.js';

export interface Broker {
  url: string;
  /** What it is, for the report. */
  description: string;
  /** The broker's processes right now (empty for an external broker: its CPU is not ours to see). */
  pids(): number[];
  /**
   * The work the broker has done so far, in Erlang reductions (all its processes, the exited
   * ones' too), where the bench can ask the node (its private 3.10 node). Unlike its CPU time,
   * it does not count the schedulers' busy-waiting, nor move with what else the machine does.
   */
  reductions?(): Promise<number>;
  close(): Promise<void>;
}

/**
 * `rabbitmq`: the private node's version, the host's 3.10 (Debian bookworm) or trixie's 4.0
 * (broker-trixie.ts); an external broker is whatever it is.
 */
export async function openBroker(
  log: (line: string) => void,
  rabbitmq: RabbitmqVersion = '3.10',
): Promise<Broker> {
  const external = process.env.TASKQUEUE_AMQP_URL;
  if (external && rabbitmq !== '3.10')
    throw new Error(`--rabbitmq ${rabbitmq} starts a private broker: unset TASKQUEUE_AMQP_URL`);
  if (rabbitmq === '4.0') {
    const node = await startTrixieRabbit(log);
    return { ...node, description: await withVersion(node.url, node.description) };
  }
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
    description: await withVersion(node.url, `private node ${node.nodeName} on port ${node.port}`),
    pids: () => treeOf(node.pid),
    reductions: async () =>
      Number(await node.ctl(['eval', 'element(1, erlang:statistics(exact_reductions)).'])),
    close: () => node.destroy(),
  };
}

/** The description with the version the broker gives in its connection's server properties. */
async function withVersion(url: string, description: string): Promise<string> {
  const model = await connect(url, 'bench-admin');
  try {
    const { product, version } = model.connection.serverProperties;
    return `${product ?? 'broker'} ${version ?? '?'}, ${description}`;
  } finally {
    await model.close();
  }
}

/** taskqueue's delay levels, `taskqueue.delay.00` to `.22`. */
const DELAY_LEVELS = 23;

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
    `${TRACKER_QUEUE}.invalid`,
    // The delay ladder (src/common/amqp/delay-names.ts): the dispatcher declares its levels with
    // the queue type's arguments, so a run on the other type must not find them.
    ...Array.from({ length: DELAY_LEVELS }, (_, i) => `taskqueue.delay.${`${i}`.padStart(2, '0')}`),
  ];
}

/**
 * Each run starts from empty queues, declared as both systems declare them, so that nothing a
 * previous run left (a redelivered task, a late result) is counted again.
 */
export async function resetQueues(
  url: string,
  type: string,
  queueType: QueueType = 'classic',
): Promise<void> {
  const model = await connect(url, 'bench-admin');
  try {
    const channel = await model.createChannel();
    for (const queue of queuesOf(type)) await channel.deleteQueue(queue);
    // The tracker queue too: the readiness check asks for its consumers before any program of
    // a tracking variant declared it. Unbound, it receives nothing in the other variants.
    for (const queue of [INPUT_QUEUE, RESULTS_QUEUE, TRACKER_QUEUE])
      await channel.assertQueue(queue, plainQueueOptions(queueType));
    await channel.assertQueue(workerQueue(type), workerQueueOptions(type, queueType));
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
