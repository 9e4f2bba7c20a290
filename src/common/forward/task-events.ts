import { randomUUID } from 'node:crypto';
import type { ConsumeMessage, MessageProperties, Options } from 'amqplib';
import type { ConfirmedPublisher } from '../amqp/publisher.js';
import { isPlainText } from '../content-type.js';
import type { ErrorCode } from '../errors.js';
import { type Copy, copyOfJson, copyOfText, cutUtf8 } from '../tracking/copy.js';
import { ERROR_CAP_CHARS } from '../tracking/limits.js';
import { publishEvent, trackedIdOf, trackedRunOf } from '../tracking/publish.js';
import type { Timing } from './schedule.js';

/** A task as received: the input message, or what a direct submitter publishes. */
export interface ReceivedTask {
  content: Buffer;
  properties: Pick<MessageProperties, 'headers' | 'contentType'>;
}

/**
 * The dispatcher's lifecycle events ([tracking] enabled): `received` for a task it forwards,
 * `invalid` for one it parks, each published alongside the forward or the park on the same
 * confirm channel and awaited with it, so that the input's ack waits for both confirms and no
 * round trip is added.
 */
export class DispatcherEvents {
  /**
   * Gives a task forwarded without correlation_id or message_id a message_id, so that the
   * dispatcher's events and the child's (which name a task the same way, trackedIdOf) are about
   * the same task. Only with tracking on: off, a task is forwarded with its properties as they
   * came.
   */
  identify(forwarded: Options.Publish): void {
    if (forwarded.correlationId === undefined && forwarded.messageId === undefined)
      forwarded.messageId = randomUUID();
  }

  /**
   * `forwarded`: the properties the task is forwarded with (identified); `timing`: its due time
   * when it went into the delay ladder, and its deadline (schedule.ts).
   */
  received(
    publisher: ConfirmedPublisher,
    message: ReceivedTask,
    type: string,
    forwarded: Options.Publish,
    timing?: Timing,
  ): Promise<void> {
    const taskId = (forwarded.correlationId ?? forwarded.messageId) as string;
    const copy = copyOfBody(message, true);
    const run = trackedRunOf(message.properties);
    return publishEvent(publisher, {
      v: 1,
      event: 'received',
      taskId,
      type,
      at: new Date().toISOString(),
      ...(run === undefined ? {} : { run }),
      ...(timing?.dueMs === undefined ? {} : { notBefore: new Date(timing.dueMs).toISOString() }),
      ...(timing?.expiresAt === undefined ? {} : { expiresAt: timing.expiresAt }),
      workitem: copy.value,
      truncated: copy.truncated || undefined,
    });
  }

  invalid(
    publisher: ConfirmedPublisher,
    message: ConsumeMessage,
    reason: string,
    code: ErrorCode,
  ): Promise<void> | undefined {
    // A parked task without an id: nobody could ask for it by one; not tracked.
    const taskId = trackedIdOf(message.properties);
    if (taskId === undefined) return undefined;
    const copy = copyOfBody(message, false);
    return publishEvent(publisher, {
      v: 1,
      event: 'invalid',
      taskId,
      // An invalid task's type may be what is wrong with it: not tracked by type.
      type: '',
      at: new Date().toISOString(),
      error: cutUtf8(reason, ERROR_CAP_CHARS),
      errorCode: code,
      workitem: copy.value,
      truncated: copy.truncated || undefined,
    });
  }
}

/**
 * A forwarded JSON body was validated by the route: its text goes in as it is. Anything else
 * (text/plain, or a parked body that may not be JSON at all) is copied as text.
 */
function copyOfBody(message: ReceivedTask, validJson: boolean): Copy {
  let text = message.content.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return validJson && !isPlainText(message.properties.contentType)
    ? copyOfJson(text)
    : copyOfText(text);
}
