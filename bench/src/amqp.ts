import amqp, { type ChannelModel } from 'amqplib';

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

export const INPUT_QUEUE = 'taskqueue';
export const RESULTS_QUEUE = 'results';
/** `[tracking] enabled = yes`: the events' queue, drained by tracker-sink.ts. */
export const TRACKER_QUEUE = 'taskqueue.tracker';
export const workerQueue = (type: string): string => `worker_${type}`;
