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

export const TYPES_EXCHANGE = 'taskqueue.types';

export interface Placement {
  queue: string;
  /** As the cluster says after the declarations, not as intended. */
  leader: string;
  members: number;
}

/**
 * Deletes every queue of the cluster (this bench's private cluster: the programs' delay ladder
 * and cancels stream too, so that they are declared again on all its nodes), then declares the
 * three of the hot path with their leaders spread.
 */
export async function declareQueues(
  urls: string[],
  ctl: (args: string[]) => Promise<string>,
): Promise<Placement[]> {
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
    const listed = await ctl(['list_queues', '--quiet', '--no-table-headers', 'name']);
    for (const queue of listed.split('\n').map((line) => line.trim()))
      if (queue) await channel.deleteQueue(queue);
  } finally {
    await admin.close();
  }
  for (const [i, d] of declarations.entries()) {
    const node = i % urls.length;
    const model = await connect(urls[node]!, 'bench-cluster-admin');
    try {
      const channel = await model.createChannel();
      await channel.assertQueue(d.name, d.options);
    } finally {
      await model.close();
    }
  }
  const listed = await ctl([
    'list_queues',
    '--quiet',
    '--no-table-headers',
    'name',
    'leader',
    'members',
  ]);
  const placements: Placement[] = [];
  for (const line of listed.split('\n')) {
    const [name, leader, ...members] = line.trim().split(/\s+/);
    if (!name || !leader || !declarations.some((d) => d.name === name)) continue;
    const count = members.join(' ').match(/rabbit@/g)?.length ?? 0;
    placements.push({ queue: name, leader, members: count });
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

/**
 * Whether the build under test declared the direct path's exchange (issue 31, helper direct),
 * asked of the node by rabbitmqctl (a passive declare of an absent exchange closes the channel).
 */
export async function typesExchangeExists(
  ctl: (args: string[]) => Promise<string>,
): Promise<boolean> {
  const listed = await ctl(['list_exchanges', '--quiet', '--no-table-headers', 'name']);
  return listed.split('\n').some((line) => line.trim() === TYPES_EXCHANGE);
}
