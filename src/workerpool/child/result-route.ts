import { hostname } from 'node:os';
import type { Workitem } from '@taskqueue/plugin-api';
import type { ConsumeMessage, Options } from 'amqplib';
import type { ConfirmedPublisher } from '../../common/amqp/publisher.js';
import { UNROUTABLE_RESULTS_QUEUE } from '../../common/amqp/queues.js';
import type { GroupConfig } from '../../common/config/types.js';
import { hasCode, TqError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';

const HOST = hostname();
/** The prefix of RabbitMQ's direct reply-to addresses. */
const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/** What the result headers say about the run (SPEC §1 *Result*). */
export interface RunFacts {
  attempts: number;
  durationMs: number;
}

/**
 * Publishes a task's result and resolves once the broker confirmed it: to `reply_to` when the
 * task has one, else to the group's results exchange and routing key. A result no queue would
 * receive is not dropped: a vanished `reply_to` falls back to the configured route, and an
 * unroutable configured route parks the result on `taskqueue.unroutable` with the reason.
 */
export async function publishResult(
  publisher: ConfirmedPublisher,
  group: GroupConfig,
  task: ConsumeMessage,
  workitem: Workitem,
  facts: RunFacts,
  log: () => Logger,
): Promise<void> {
  const body = serialize(workitem);
  const options = resultProperties(group, task, facts);
  const replyTo = task.properties.replyTo as string | undefined;
  if (replyTo?.startsWith(DIRECT_REPLY_TO)) {
    // RabbitMQ returns mandatory direct reply-to publishes even when it delivers them, and a
    // caller that went away has given up on its answer: no fallback route here.
    return await publisher.publish('', replyTo, body, { ...options, mandatory: false });
  }
  if (replyTo) {
    try {
      return await publisher.publish('', replyTo, body, options);
    } catch (err) {
      if (!hasCode(err, 'TQ_ERR_AMQP_UNROUTABLE')) throw err;
      log().warn({ replyTo }, 'reply_to queue is gone; result sent to the results route instead');
    }
  }
  try {
    await publisher.publish(group.resultsExchange, group.resultsRoutingKey, body, options);
  } catch (err) {
    if (!hasCode(err, 'TQ_ERR_AMQP_UNROUTABLE')) throw err;
    const reason = `no queue is bound to exchange "${group.resultsExchange}" with key "${group.resultsRoutingKey}"`;
    log().error({ queue: UNROUTABLE_RESULTS_QUEUE, reason }, 'result unroutable; parked');
    await publisher.publish('', UNROUTABLE_RESULTS_QUEUE, body, {
      ...options,
      headers: { ...options.headers, 'x-taskqueue-error': reason },
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
      'x-worker-type': group.type,
      'x-worker-host': HOST,
      'x-attempts': facts.attempts,
      'x-duration-ms': facts.durationMs,
      // Not in SPEC's list: lets operators (and `npm start`) see which child did the work.
      'x-worker-pid': process.pid,
    },
  };
  const correlation = correlationId ?? messageId;
  if (correlation !== undefined) options.correlationId = correlation;
  return options;
}
