import type { ConfirmChannel, Options } from 'amqplib';
import type { AmqpConnection } from '../common/amqp/connection.js';
import { ConfirmedPublisher } from '../common/amqp/publisher.js';
import { EXPIRES_AT_HEADER, NOT_BEFORE_HEADER, RUN_HEADER } from '../common/amqp/wire.js';
import { TqError } from '../common/errors.js';
import type { DirectSubmitter } from '../common/forward/direct-submitter.js';

/** One task message for one type, as PublishTask publishes it. */
export interface TaskMessage {
  id: string;
  type: string;
  body: Buffer;
  run?: number;
  /** AMQP `priority`; the headers NOT_BEFORE_HEADER and EXPIRES_AT_HEADER (ISO, absolute). */
  priority?: number;
  notBefore?: string;
  expiresAt?: string;
}

/**
 * Publishes one task message for one type; resolves once the broker confirmed it. `run` (above
 * 1: a retry) goes in the `x-taskqueue-run` header, which the lifecycle events carry back.
 * `check`, when there, throws for a message the publish would refuse (the direct path refuses
 * what the dispatcher would park): called before anything is stored.
 */
export type PublishTask = ((task: TaskMessage) => Promise<void>) & {
  check?: (type: string, bytes: number) => void;
};

/**
 * Publishes tasks over the daemon's connection: persistent, mandatory (no queue, no confirm),
 * the task id as message id, so that the dispatcher, the results and the tracker all speak of
 * the same id. With `direct` (set up on every connection by the connection's setup), straight
 * to each type's queue (docs/direct-path.md); without, to the input queue `queue`. One
 * ConfirmedPublisher per channel (it matches returns to publishes on its channel), a new one
 * after each reconnect.
 */
export function taskPublisher(
  connection: AmqpConnection,
  queue: string,
  direct?: DirectSubmitter,
): PublishTask {
  const publishers = new WeakMap<ConfirmChannel, ConfirmedPublisher>();
  const publish: PublishTask = async ({ id, type, body, run, priority, notBefore, expiresAt }) => {
    const channel = connection.channel;
    if (channel === undefined) {
      throw new TqError('TQ_ERR_API_PUBLISH', 'not connected to the broker; try again', {
        details: { taskId: id },
      });
    }
    const headers: Record<string, string | number> = {
      ...(run !== undefined && run > 1 ? { [RUN_HEADER]: run } : {}),
      ...(notBefore === undefined ? {} : { [NOT_BEFORE_HEADER]: notBefore }),
      ...(expiresAt === undefined ? {} : { [EXPIRES_AT_HEADER]: expiresAt }),
    };
    const options: Options.Publish = {
      persistent: true,
      contentType: 'application/json',
      messageId: id,
      correlationId: id,
      timestamp: Math.floor(Date.now() / 1000),
      ...(priority === undefined ? {} : { priority }),
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
    };
    try {
      if (direct) {
        await direct.publish(channel, { type, content: body, options });
        return;
      }
      let publisher = publishers.get(channel);
      if (publisher === undefined) {
        publisher = new ConfirmedPublisher(channel);
        publishers.set(channel, publisher);
      }
      await publisher.publish('', queue, body, options);
    } catch (err) {
      throw new TqError(
        'TQ_ERR_API_PUBLISH',
        `the broker did not take task ${id}: ${(err as Error).message}`,
        {
          cause: err,
          details: { taskId: id },
        },
      );
    }
  };
  if (direct) publish.check = (type, bytes) => direct.check(type, bytes);
  return publish;
}
