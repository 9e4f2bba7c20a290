import type { Channel } from 'amqplib';
import type { QueueType } from '../config/types.js';

/** The queue a type's tasks wait on. */
export const workerQueue = (type: string): string => `worker_${type}`;
/** Where the dispatcher parks input it cannot route. */
export const invalidQueue = (inputQueue: string): string => `${inputQueue}.invalid`;
/** Where a type's poison messages go. */
export const deadQueue = (type: string): string => `worker_${type}.dead`;
/** Where results go that no queue would receive on their configured route. */
export const UNROUTABLE_RESULTS_QUEUE = 'taskqueue.unroutable';

/**
 * The arguments of every queue the system declares. One function, so that the dispatcher, the
 * pool and the CLI always declare a queue identically and never meet PRECONDITION_FAILED.
 */
export function queueArguments(queueType: QueueType): Record<string, unknown> {
  if (queueType === 'quorum') return { 'x-queue-type': 'quorum' };
  return {};
}

/** Declares a durable queue of the system with the system's arguments. */
export async function declareQueue(
  channel: Channel,
  name: string,
  queueType: QueueType,
): Promise<void> {
  await channel.assertQueue(name, { durable: true, arguments: queueArguments(queueType) });
}
