import type { MessageProperties } from 'amqplib';
import type { ConfirmedPublisher } from '../amqp/publisher.js';
import { EVENTS_EXCHANGE, eventRoutingKey } from '../amqp/queues.js';
import { RUN_HEADER } from '../amqp/wire.js';
import { encodeEvent } from './encode.js';
import type { WireEvent } from './event.js';

/**
 * The id a task is tracked by: its correlation_id, else its message_id, as the children name a
 * task (workitem.ts `taskIdOf`). A task published with neither has no id that the dispatcher
 * and the children would both see, and is not tracked.
 */
export function trackedIdOf(properties: MessageProperties): string | undefined {
  return properties.correlationId ?? properties.messageId;
}

/**
 * The run a task message is of (RUN_HEADER, set by the API when it retried the task), when it
 * is a run after the first; undefined otherwise, and for a value that is not a whole number
 * above 1 (a header another client set is not trusted to be one).
 */
export function trackedRunOf(properties: Pick<MessageProperties, 'headers'>): number | undefined {
  const raw = properties.headers?.[RUN_HEADER];
  const run = typeof raw === 'string' ? Number(raw) : raw;
  return typeof run === 'number' && Number.isSafeInteger(run) && run > 1 ? run : undefined;
}

/** Publishes `event` persistent to the events exchange; resolves once the broker confirmed it. */
export function publishEvent(publisher: ConfirmedPublisher, event: WireEvent): Promise<void> {
  return publisher.publish(
    EVENTS_EXCHANGE,
    eventRoutingKey(event.event, event.type),
    encodeEvent(event),
    { persistent: true, contentType: 'application/json' },
  );
}
