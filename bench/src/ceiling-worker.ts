/**
 * The ceiling's worker child: parse, call a no-op handler, publish the result persistent and
 * mandatory on a confirm channel, ack the task in the confirm callback. No supervision, no
 * ledger, no logging: what is left is the work any worker with taskqueue's guarantees must do.
 *
 * Usage: node ceiling-worker.js URL PREFETCH TYPE [classic|quorum]
 */
import type { ConsumeMessage } from 'amqplib';
import {
  connect,
  plainQueueOptions,
  queueTypeArgument,
  RESULTS_QUEUE,
  workerQueue,
  workerQueueOptions,
} from './amqp.js';

const [url, prefetchArg, type, queueTypeArg] = process.argv.slice(2);
if (!url || !prefetchArg || !type)
  throw new Error('usage: ceiling-worker URL PREFETCH TYPE [QUEUE_TYPE]');
const queueType = queueTypeArgument(queueTypeArg);

type Workitem = Record<string, unknown>;
/** Stands for a plugin's handleTask: async, like every plugin's. */
const handleTask = async (workitem: Workitem): Promise<Workitem | undefined> => workitem;

const model = await connect(url, 'bench-ceiling-worker');
const channel = await model.createConfirmChannel();
// The broker going away ends this process; the bench sees the exit and fails the run.
model.on('error', () => {});
channel.on('error', () => {});
model.once('close', () => process.exit(0));
const queue = workerQueue(type);
await channel.assertQueue(queue, workerQueueOptions(type, queueType));
await channel.assertQueue(RESULTS_QUEUE, plainQueueOptions(queueType));
await channel.prefetch(Number(prefetchArg));

async function work(message: ConsumeMessage): Promise<void> {
  const workitem = JSON.parse(message.content.toString('utf8')) as Workitem;
  const result = (await handleTask(workitem)) ?? workitem;
  const { correlationId, messageId } = message.properties;
  const options = {
    persistent: true,
    mandatory: true,
    contentType: 'application/json',
    ...((correlationId ?? messageId) ? { correlationId: correlationId ?? messageId } : {}),
  };
  channel.publish('', RESULTS_QUEUE, Buffer.from(JSON.stringify(result)), options, (err) => {
    if (err) channel.nack(message, false, true);
    else channel.ack(message);
  });
}

await channel.consume(queue, (message) => {
  if (message) void work(message);
});

process.on('SIGTERM', () => {
  void channel
    .close()
    .then(() => model.close())
    .finally(() => process.exit(0));
});
