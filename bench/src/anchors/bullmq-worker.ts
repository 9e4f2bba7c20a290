/**
 * One BullMQ worker process of the anchors: concurrency W, the processor sandboxed (a child
 * process per job in progress, BullMQ's isolation, like taskqueue's plugin children).
 *
 * Usage: node bullmq-worker.js PORT CONCURRENCY
 */
import { Worker } from 'bullmq';
import { BULL_QUEUE, READY_LINE, redisConnection } from './bullmq-names.js';

const [portArg, concurrencyArg] = process.argv.slice(2);
if (!portArg || !concurrencyArg) throw new Error('usage: bullmq-worker PORT CONCURRENCY');

const processor = new URL('./bullmq-processor.js', import.meta.url).pathname;
const worker = new Worker(BULL_QUEUE, processor, {
  connection: redisConnection(Number(portArg)),
  concurrency: Number(concurrencyArg),
  useWorkerThreads: false,
});
worker.on('error', (err) => console.error(`worker error: ${err.message}`));
await worker.waitUntilReady();
console.log(READY_LINE);

process.on('SIGTERM', () => {
  // Redis may already be gone at the end of a run: do not wait for it long.
  setTimeout(() => process.exit(0), 3000).unref();
  void worker.close().finally(() => process.exit(0));
});
