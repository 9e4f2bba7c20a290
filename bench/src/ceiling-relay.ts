/**
 * The ceiling's dispatcher: the least a relay with taskqueue's guarantees can do. It parses
 * each task (to find its type), forwards the same bytes and properties persistent and mandatory
 * on a confirm channel, and acks the input only in the confirm callback.
 *
 * Usage: node ceiling-relay.js URL PREFETCH [classic|quorum]
 */
import type { ConsumeMessage, MessageProperties, Options } from 'amqplib';
import {
  connect,
  INPUT_QUEUE,
  plainQueueOptions,
  queueTypeArgument,
  workerQueue,
  workerQueueOptions,
} from './amqp.js';

const [url, prefetchArg, queueTypeArg] = process.argv.slice(2);
if (!url || !prefetchArg) throw new Error('usage: ceiling-relay URL PREFETCH [QUEUE_TYPE]');
const queueType = queueTypeArgument(queueTypeArg);

/** What the broker carries on; `userId` is checked against the connection's user, so not it. */
function sameProperties(p: MessageProperties): Options.Publish {
  const out: Options.Publish = { persistent: true, mandatory: true };
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.contentEncoding !== undefined) out.contentEncoding = p.contentEncoding;
  if (p.headers !== undefined) out.headers = p.headers;
  if (p.priority !== undefined) out.priority = p.priority;
  if (p.correlationId !== undefined) out.correlationId = p.correlationId;
  if (p.replyTo !== undefined) out.replyTo = p.replyTo;
  if (p.expiration !== undefined) out.expiration = p.expiration;
  if (p.messageId !== undefined) out.messageId = p.messageId;
  if (p.timestamp !== undefined) out.timestamp = p.timestamp;
  if (p.type !== undefined) out.type = p.type;
  if (p.appId !== undefined) out.appId = p.appId;
  return out;
}

const model = await connect(url, 'bench-ceiling-relay');
const channel = await model.createConfirmChannel();
// The broker going away ends this process; the bench sees the exit and fails the run.
model.on('error', () => {});
channel.on('error', () => {});
model.once('close', () => process.exit(0));
await channel.assertQueue(INPUT_QUEUE, plainQueueOptions(queueType));
await channel.prefetch(Number(prefetchArg));
// Declared once per type, as the dispatcher does, so a first task never goes nowhere.
const declared = new Map<string, Promise<unknown>>();

function forward(message: ConsumeMessage): void {
  const workitem = JSON.parse(message.content.toString('utf8')) as {
    fields: { params: { worker_type: string } };
  };
  const queue = workerQueue(workitem.fields.params.worker_type);
  let ready = declared.get(queue);
  if (!ready) {
    ready = channel.assertQueue(
      queue,
      workerQueueOptions(workitem.fields.params.worker_type, queueType),
    );
    declared.set(queue, ready);
  }
  void ready.then(() =>
    channel.publish('', queue, message.content, sameProperties(message.properties), (err) => {
      if (err) channel.nack(message, false, true);
      else channel.ack(message);
    }),
  );
}

await channel.consume(INPUT_QUEUE, (message) => {
  if (message) forward(message);
});

process.on('SIGTERM', () => {
  void channel
    .close()
    .then(() => model.close())
    .finally(() => process.exit(0));
});
