import { hostname } from 'node:os';
import type { Workitem } from '@taskqueue/plugin-api';
import type { ConsumeMessage, Options } from 'amqplib';
import type { ConfirmedPublisher } from '../../common/amqp/publisher.js';
import { UNROUTABLE_RESULTS_QUEUE } from '../../common/amqp/queues.js';
import {
  ATTEMPTS_HEADER,
  DURATION_MS_HEADER,
  ERROR_HEADER,
  REPLY_TO_REFUSED_HEADER,
  WORKER_HOST_HEADER,
  WORKER_PID_HEADER,
  WORKER_TYPE_HEADER,
} from '../../common/amqp/wire.js';
import type { GroupConfig } from '../../common/config/types.js';
import { hasCode, TqError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { replyTarget } from './reply-to.js';

const HOST = hostname();

/** The header of a result sent to the results route instead of a refused `reply_to` (wire.ts). */
export { REPLY_TO_REFUSED_HEADER };

/** What the result headers say about the run (SPEC §1 *Result*). */
export interface RunFacts {
  attempts: number;
  durationMs: number;
}

/**
 * Publishes a task's result and resolves once the broker confirmed it: to `reply_to` when the
 * task has one, else to the group's results exchange and routing key. A result no queue would
 * receive is not dropped: a vanished `reply_to` falls back to the configured route, and an
 * unroutable configured route parks the result on `taskqueue.unroutable` with the reason. A
 * `reply_to` naming a queue of the system (reply-to.ts) is refused: the result takes the
 * configured route, with the reason in a header and a warning in the log.
 *
 * A result the broker refuses for good (larger than its max_message_size) fails with
 * TQ_ERR_RESULT_TOO_LARGE (`byBroker`: the channel is gone); so does, before anything is sent, a
 * result of at least `refusedBytes`, the size of one the broker refused before.
 */
export function publishResult(
  publisher: ConfirmedPublisher,
  group: GroupConfig,
  inputQueue: string,
  task: ConsumeMessage,
  workitem: Workitem,
  facts: RunFacts,
  log: () => Logger,
  refusedBytes = Number.POSITIVE_INFINITY,
): Promise<void> {
  let body: Buffer;
  try {
    body = serialize(workitem);
  } catch (err) {
    return Promise.reject(err);
  }
  if (body.length >= refusedBytes) {
    return Promise.reject(
      new TqError(
        'TQ_ERR_RESULT_TOO_LARGE',
        `the result of ${body.length} bytes is too large: the broker refused one of ${refusedBytes} bytes (max_message_size)`,
        { details: { bytes: body.length, byBroker: false } },
      ),
    );
  }
  // A `catch` on the publish, not an async layer around it: one promise less every result.
  return publishBody(publisher, group, inputQueue, task, body, facts, log).catch((err) => {
    if (!hasCode(err, 'TQ_ERR_AMQP_REFUSED')) throw err;
    throw new TqError(
      'TQ_ERR_RESULT_TOO_LARGE',
      `the broker refused the result of ${body.length} bytes (above its max_message_size)`,
      { cause: err, details: { bytes: body.length, byBroker: true } },
    );
  });
}

async function publishBody(
  publisher: ConfirmedPublisher,
  group: GroupConfig,
  inputQueue: string,
  task: ConsumeMessage,
  body: Buffer,
  facts: RunFacts,
  log: () => Logger,
): Promise<void> {
  const options = resultProperties(group, task, facts);
  const target = replyTarget(task.properties.replyTo as string | undefined, inputQueue);
  if (target.kind === 'direct') {
    // RabbitMQ returns mandatory direct reply-to publishes even when it delivers them, and a
    // caller that went away has given up on its answer: no fallback route here.
    return await publisher.publish('', target.queue, body, { ...options, mandatory: false });
  }
  if (target.kind === 'queue') {
    try {
      return await publisher.publish('', target.queue, body, options);
    } catch (err) {
      if (!hasCode(err, 'TQ_ERR_AMQP_UNROUTABLE')) throw err;
      log().warn(
        { replyTo: target.queue },
        'reply_to queue is gone; result sent to the results route instead',
      );
    }
  }
  if (target.kind === 'refused') {
    const refused = `reply_to "${target.replyTo.slice(0, 255)}" refused: ${target.reason}`;
    log().warn(
      { replyTo: target.replyTo, reason: target.reason, code: 'TQ_ERR_REPLY_TO_REFUSED' },
      'reply_to refused; result sent to the results route instead',
    );
    options.headers = { ...options.headers, [REPLY_TO_REFUSED_HEADER]: refused };
  }
  try {
    await publisher.publish(group.resultsExchange, group.resultsRoutingKey, body, options);
  } catch (err) {
    if (!hasCode(err, 'TQ_ERR_AMQP_UNROUTABLE')) throw err;
    const reason = `no queue is bound to exchange "${group.resultsExchange}" with key "${group.resultsRoutingKey}"`;
    log().error({ queue: UNROUTABLE_RESULTS_QUEUE, reason }, 'result unroutable; parked');
    await publisher.publish('', UNROUTABLE_RESULTS_QUEUE, body, {
      ...options,
      headers: { ...options.headers, [ERROR_HEADER]: reason },
    });
  }
}

function serialize(workitem: Workitem): Buffer {
  try {
    return Buffer.from(JSON.stringify(workitem));
  } catch (err) {
    throw new TqError(
      'TQ_ERR_RESULT_UNSERIALIZABLE',
      `the result cannot be serialized as JSON: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function resultProperties(
  group: GroupConfig,
  task: ConsumeMessage,
  facts: RunFacts,
): Options.Publish {
  const { correlationId, messageId } = task.properties;
  const options: Options.Publish = {
    contentType: 'application/json',
    persistent: true,
    timestamp: Math.floor(Date.now() / 1000),
    headers: {
      [WORKER_TYPE_HEADER]: group.type,
      [WORKER_HOST_HEADER]: HOST,
      [ATTEMPTS_HEADER]: facts.attempts,
      [DURATION_MS_HEADER]: facts.durationMs,
      // Not in SPEC's list: lets operators (and `npm start`) see which child did the work.
      [WORKER_PID_HEADER]: process.pid,
    },
  };
  const correlation = correlationId ?? messageId;
  if (correlation !== undefined && fitsShortString(correlation))
    options.correlationId = correlation;
  return options;
}

/**
 * Whether a property read from a task can be written again as an AMQP short string: invalid
 * UTF-8 from another client is read as U+FFFD (3 bytes each), past 255 bytes. Counted only for a
 * string long enough to be in doubt (a UTF-16 unit is at most 3 bytes).
 */
export function fitsShortString(value: string): boolean {
  return value.length <= 85 || Buffer.byteLength(value) <= 255;
}
