import amqp, { type ChannelModel, type Options } from 'amqplib';

/**
 * Every bench connection, ceiling or load: `noDelay` as taskqueue's own connections, so that
 * Nagle's algorithm does not add ~40 ms to small frames on one side only.
 */
export function connect(url: string, name: string): Promise<ChannelModel> {
  return amqp.connect(url, {
    noDelay: true,
    clientProperties: { connection_name: `${name}:${process.pid}` },
  });
}

/** Both systems' queues: durable, classic, no arguments (taskqueue's `queue_type = classic`). */
export const DURABLE = { durable: true, arguments: {} };

/** taskqueue's `[amqp] queue_type`, which the ceiling of a variant follows. */
export type QueueType = 'classic' | 'quorum';
export const QUEUE_TYPES: readonly QueueType[] = ['classic', 'quorum'];

/**
 * The declarations below are taskqueue's (src/common/amqp/queues.ts: plainQueue and
 * workerQueueDeclaration without priorities), so that the ceiling of a quorum variant pays for
 * the same queue features: the delivery limit that dead-letters instead of dropping, at-least-once
 * dead-lettering and the reject-publish overflow it needs. test/unit/bench/queue-types.test.ts
 * keeps them equal.
 */
const QUORUM_DELIVERY_LIMIT = 1000;

/** Input, results, tracker: any queue of either system that is not a worker queue. */
export function plainQueueOptions(queueType: QueueType): Options.AssertQueue {
  if (queueType === 'classic') return DURABLE;
  return {
    durable: true,
    arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': QUORUM_DELIVERY_LIMIT },
  };
}

/** `worker_<type>`: on quorum queues, its poison messages dead-letter to `worker_<type>.dead`. */
export function workerQueueOptions(type: string, queueType: QueueType): Options.AssertQueue {
  if (queueType === 'classic') return DURABLE;
  return {
    durable: true,
    arguments: {
      ...plainQueueOptions(queueType).arguments,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': `${workerQueue(type)}.dead`,
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    },
  };
}

/** A ceiling process's optional last argument: `classic` when absent. */
export function queueTypeArgument(raw: string | undefined): QueueType {
  if (raw === undefined) return 'classic';
  if ((QUEUE_TYPES as readonly string[]).includes(raw)) return raw as QueueType;
  throw new Error(`queue type ${raw}: expected ${QUEUE_TYPES.join(' or ')}`);
}

export const INPUT_QUEUE = 'taskqueue';
export const RESULTS_QUEUE = 'results';
/** `[tracking] enabled = yes`: the events' queue, drained by tracker-sink.ts. */
export const TRACKER_QUEUE = 'taskqueue.tracker';
export const workerQueue = (type: string): string => `worker_${type}`;
