/**
 * The cluster's queues, declared before the programs start, with the declarations of the
 * taskqueue under test (its dist/common/amqp/queues.js: the same arguments, or the programs'
 * own declarations would be refused), each from a connection to a different node: a quorum
 * queue's leader is the node its declaring client is connected to (RabbitMQ 3.10's default
 * `client-local`), and three leaders on one node would load that node alone. Members: every
 * node of the cluster at the time of the declaration, so each cluster size starts afresh.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Options } from 'amqplib';
import { connect, INPUT_QUEUE, RESULTS_QUEUE, workerQueue } from '../amqp.js';
import { TASKQUEUE_DIR } from '../systems.js';
import { TYPE } from '../workitem.js';

interface Declaration {
  name: string;
  options: Options.AssertQueue;
}
interface QueuesModule {
  plainQueue(name: string, queueType: 'quorum'): Declaration;
  workerQueueDeclaration(type: string, queueType: 'quorum', maxPriority: undefined): Declaration;
}

/** Every queue a run may leave behind; deleted when the cluster grows. */
const ALL = [
  INPUT_QUEUE,
  `${INPUT_QUEUE}.invalid`,
  workerQueue(TYPE),
  `${workerQueue(TYPE)}.dead`,
  RESULTS_QUEUE,
  'taskqueue.unroutable',
];

export const TYPES_EXCHANGE = 'taskqueue.types';

export interface Placement {
  queue: string;
  leader: string;
}

export async function declareQueues(urls: string[], nodeNames: string[]): Promise<Placement[]> {
  const queues = (await import(
    pathToFileURL(join(TASKQUEUE_DIR, 'dist/common/amqp/queues.js')).href
  )) as QueuesModule;
  const declarations = [
    queues.plainQueue(INPUT_QUEUE, 'quorum'),
    queues.workerQueueDeclaration(TYPE, 'quorum', undefined),
    queues.plainQueue(RESULTS_QUEUE, 'quorum'),
  ];
  const admin = await connect(urls[0]!, 'bench-cluster-admin');
  try {
    const channel = await admin.createChannel();
    for (const queue of ALL) await channel.deleteQueue(queue);
  } finally {
    await admin.close();
  }
  const placements: Placement[] = [];
  for (const [i, d] of declarations.entries()) {
    const node = i % urls.length;
    const model = await connect(urls[node]!, 'bench-cluster-admin');
    try {
      const channel = await model.createChannel();
      await channel.assertQueue(d.name, d.options);
    } finally {
      await model.close();
    }
    placements.push({ queue: d.name, leader: nodeNames[node]! });
  }
  return placements;
}

/** Empties the queues between rounds (a late result or task of the previous round). */
export async function purgeQueues(url: string): Promise<void> {
  const model = await connect(url, 'bench-cluster-admin');
  try {
    const channel = await model.createChannel();
    for (const queue of [INPUT_QUEUE, workerQueue(TYPE), RESULTS_QUEUE])
      await channel.purgeQueue(queue);
  } finally {
    await model.close();
  }
}

/** Whether the build under test declared the direct path's exchange (issue 31, helper direct). */
export async function typesExchangeExists(url: string): Promise<boolean> {
  const model = await connect(url, 'bench-cluster-admin');
  model.on('error', () => {});
  try {
    const channel = await model.createChannel();
    channel.on('error', () => {});
    await channel.checkExchange(TYPES_EXCHANGE);
    return true;
  } catch {
    return false;
  } finally {
    await model.close().catch(() => {});
  }
}
