import type { Channel } from 'amqplib';
import type { QueueType } from '../config/types.js';
import { declareQueue, workerQueue } from './queues.js';

/**
 * The names of the direct path (docs/direct-path.md): a client that knows a task's type publishes
 * it to TYPES_EXCHANGE with the type as routing key, and the broker puts it straight into
 * `worker_<type>`, one hop instead of two (the dispatcher's). Whoever declares a worker queue
 * binds it there (the pool's children, and the dispatcher for the queues it declares). A task
 * whose type no queue is bound for is not dropped: the exchange's alternate exchange brings it
 * to the dispatcher's input queue, which routes it by its body as any input, declaring the queue
 * (and binding it), or parks it on `<input>.invalid` with the reason.
 */

/** Direct exchange, durable; routing key: the worker type. */
export const TYPES_EXCHANGE = 'taskqueue.types';

/** TYPES_EXCHANGE's alternate exchange (fanout, durable), bound to the dispatcher's input queue. */
export const TYPES_UNROUTED_EXCHANGE = 'taskqueue.types.unrouted';

/**
 * Declares TYPES_EXCHANGE as every program does: whoever declares it first sets its alternate
 * exchange, and the broker refuses a later declaration with other arguments.
 */
export async function declareTypesExchange(channel: Channel): Promise<void> {
  await channel.assertExchange(TYPES_EXCHANGE, 'direct', {
    durable: true,
    alternateExchange: TYPES_UNROUTED_EXCHANGE,
  });
}

/** Lets the direct path reach `worker_<type>` (declared before); idempotent. */
export async function bindToTypes(channel: Channel, type: string): Promise<void> {
  await declareTypesExchange(channel);
  await channel.bindQueue(workerQueue(type), TYPES_EXCHANGE, type);
}

/**
 * The direct path's way back to the dispatcher: the alternate exchange, bound to the input
 * queue (declared as the dispatcher declares it), and TYPES_EXCHANGE itself. Idempotent; run on
 * every connection by the dispatcher and by whoever publishes direct, so that a task for a type
 * no queue is bound for always has the input queue to go to.
 */
export async function declareDirectPath(
  channel: Channel,
  inputQueue: string,
  queueType: QueueType,
): Promise<void> {
  await declareQueue(channel, inputQueue, queueType);
  await channel.assertExchange(TYPES_UNROUTED_EXCHANGE, 'fanout', { durable: true });
  await channel.bindQueue(inputQueue, TYPES_UNROUTED_EXCHANGE, '');
  await declareTypesExchange(channel);
}
