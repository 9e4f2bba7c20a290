import type { MessageProperties, Options } from 'amqplib';
import { publishDelayed } from '../amqp/delay.js';
import type { ConfirmedPublisher } from '../amqp/publisher.js';
import { workerQueue } from '../amqp/queues.js';
import type { Timing } from './schedule.js';
import { applyTiming } from './schedule.js';
import type { DispatcherEvents } from './task-events.js';
import type { TypePriorities } from './type-priorities.js';

/** One connection's means to forward: its publisher, its broker's priority plans, its events. */
export interface ForwardSession {
  publisher: ConfirmedPublisher;
  priorities: TypePriorities;
  /** With [tracking] enabled only. */
  events: DispatcherEvents | undefined;
}

/** A task on its way to `worker_<type>`, and where it is published when it is not delayed. */
export interface ForwardedTask {
  type: string;
  content: Buffer;
  /** The properties it came with (the `received` event reads its run and content type). */
  received: Pick<MessageProperties, 'headers' | 'contentType'>;
  /** The properties it goes with: changed here (priority, timing, message id). */
  options: Options.Publish;
  timing: Timing | undefined;
  /** `''` and `worker_<type>` (the dispatcher), or TYPES_EXCHANGE and the type (direct). */
  exchange: string;
  routingKey: string;
}

/**
 * What the dispatcher does to a task it forwards, and a direct submitter to one it publishes
 * (docs/direct-path.md): the priority its queue takes on this broker, the deadline moved into
 * its header, into the delay ladder when due later, and with tracking the `received` event on
 * the same confirm channel, both confirms awaited together. Resolves once all are confirmed.
 */
export function forwardTask(session: ForwardSession, task: ForwardedTask): Promise<unknown> {
  const { publisher, priorities, events } = session;
  const { type, content, options, timing } = task;
  priorities.adjust(type, options);
  if (timing) applyTiming(options, timing);
  // Before the publish: the task goes with the id its events name it by.
  events?.identify(options);
  const dueMs = timing?.dueMs;
  const published =
    dueMs === undefined
      ? publisher.publish(task.exchange, task.routingKey, content, options)
      : publishDelayed(publisher, content, options, workerQueue(type), dueMs);
  if (!events) return published;
  // Both confirms come back in the same read: the caller waits no longer than without.
  return Promise.all([
    published,
    events.received(publisher, { content, properties: task.received }, type, options, timing),
  ]);
}
