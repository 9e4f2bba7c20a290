/** What the BullMQ anchor's publisher and workers agree on. */
export const BULL_QUEUE = 'bench-echo';

export const redisConnection = (port: number) => ({ host: '127.0.0.1', port });

/** A worker prints it once connected; the bench waits for it in the worker's log. */
export const READY_LINE = 'bench-bullmq-worker ready';
