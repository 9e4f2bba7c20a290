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
