/**
 * The direct path's exchanges as the bench declares them for a publisher that knows the type
 * (taskqueue's `-path` variants, the one-hop limit). The names and arguments are taskqueue's
 * wire contract (src/common/amqp/direct-path.ts; the bench does not import taskqueue's code):
 * a declaration that differs would be refused by the broker, and the run fails, as it should.
 */
import { connect, INPUT_QUEUE, workerQueue } from '../amqp.js';
import { TYPE } from '../workitem.js';

/** Direct exchange, durable; routing key: the worker type. */
export const TYPES_EXCHANGE = 'taskqueue.types';
/** TYPES_EXCHANGE's alternate exchange (fanout, durable), bound to the dispatcher's input queue. */
export const TYPES_UNROUTED_EXCHANGE = 'taskqueue.types.unrouted';

/** Where a direct publisher sends a task of the bench's type. */
export const TYPES_ROUTE = { exchange: TYPES_EXCHANGE, routingKey: TYPE };

/**
 * Each run starts without them (the queues' bindings went with the queues, reset by the run):
 * the run that needs them declares them again, and a binding one system made is never another's.
 */
export async function deleteTypesExchanges(url: string): Promise<void> {
  const model = await connect(url, 'bench-admin');
  try {
    const channel = await model.createChannel();
    await channel.deleteExchange(TYPES_EXCHANGE);
    await channel.deleteExchange(TYPES_UNROUTED_EXCHANGE);
    await channel.close();
  } finally {
    await model.close();
  }
}

/**
 * What a direct publisher declares: the exchange, its alternate exchange and that one's binding
 * to the input queue, so that a task no worker queue takes goes to the dispatcher. With
 * `bindWorkerQueue` (the one-hop limit only) `worker_<type>` is bound too: for taskqueue that is
 * the pool's job, and the bench must measure whether it does it.
 */
export async function declareTypesExchange(url: string, bindWorkerQueue: boolean): Promise<void> {
  const model = await connect(url, 'bench-admin');
  try {
    const channel = await model.createChannel();
    await channel.assertExchange(TYPES_UNROUTED_EXCHANGE, 'fanout', { durable: true });
    await channel.assertExchange(TYPES_EXCHANGE, 'direct', {
      durable: true,
      alternateExchange: TYPES_UNROUTED_EXCHANGE,
    });
    await channel.bindQueue(INPUT_QUEUE, TYPES_UNROUTED_EXCHANGE, '');
    if (bindWorkerQueue) await channel.bindQueue(workerQueue(TYPE), TYPES_EXCHANGE, TYPE);
    await channel.close();
  } finally {
    await model.close();
  }
}
