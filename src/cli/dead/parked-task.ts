import type { Message, MessageProperties } from 'amqplib';
import {
  ATTEMPT_HEADER,
  BROKER_DEATH_HEADER,
  BROKER_DELIVERY_COUNT_HEADER,
  CRASH_LOG_HEADER,
  CRASHES_HEADER,
  ERROR_CODE_HEADER,
  ERROR_HEADER,
  HISTORY_HEADER,
  PARKED_AT_HEADER,
} from '../../common/amqp/wire.js';
import { routeTask } from '../../dispatcher/route.js';

/** What `taskqueue dead list` says about one parked task (JSON names as printed by `--json`). */
export interface ParkedTask {
  message_id: string | null;
  correlation_id: string | null;
  /** The queue's type on `.dead`; on `.invalid` the type the body names, when it names one. */
  type: string | null;
  reason: string | null;
  code: string | null;
  attempt: number | null;
  crashes: number | null;
  crash_log: string[];
  /** ISO time: the parking header, else the broker's dead-lettering time, else null. */
  parked_at: string | null;
  /** ISO time of the `timestamp` property (when the task was published), or null. */
  published_at: string | null;
  bytes: number;
  /** How often it was requeued before (entries of the history header). */
  requeued: number;
  /** Deliveries a quorum queue counted (each look at a quorum queue counts one), or null. */
  delivery_count: number | null;
}

/** Reads a parked message's properties; `queueType` is the type of a `.dead` queue. */
export function describeParked(message: Message, queueType: string | undefined): ParkedTask {
  const { properties, content } = message;
  const headers = properties.headers ?? {};
  return {
    message_id: stringOrNull(properties.messageId),
    correlation_id: stringOrNull(properties.correlationId),
    type: queueType ?? typeOfBody(content, properties),
    reason: headerText(headers[ERROR_HEADER]),
    code: headerText(headers[ERROR_CODE_HEADER]),
    attempt: count(headers[ATTEMPT_HEADER]),
    crashes: count(headers[CRASHES_HEADER]),
    crash_log: Array.isArray(headers[CRASH_LOG_HEADER])
      ? (headers[CRASH_LOG_HEADER] as unknown[]).map(String)
      : [],
    parked_at: headerText(headers[PARKED_AT_HEADER]) ?? deathTime(headers[BROKER_DEATH_HEADER]),
    published_at: secondsToIso(properties.timestamp),
    bytes: content.length,
    requeued: Array.isArray(headers[HISTORY_HEADER]) ? headers[HISTORY_HEADER].length : 0,
    delivery_count: count(headers[BROKER_DELIVERY_COUNT_HEADER]),
  };
}

/** The lines of `dead list` without `--json`: one block a task, numbered from 1. */
export function parkedLines(task: ParkedTask, position: number): string[] {
  const ids = [`id ${task.message_id ?? '-'}`];
  if (task.correlation_id !== null && task.correlation_id !== task.message_id)
    ids.push(`correlation ${task.correlation_id}`);
  const lines = [
    `${position}. ${ids.join('  ')}  type ${task.type ?? '-'}  ${task.bytes} bytes`,
    `   parked ${task.parked_at ?? 'at an unknown time'}${task.published_at ? `  published ${task.published_at}` : ''}`,
    `   ${task.code ?? 'no code'}: ${task.reason ?? 'no reason recorded'}`,
  ];
  const facts: string[] = [];
  if (task.attempt !== null) facts.push(`attempt ${task.attempt}`);
  if (task.crashes !== null) facts.push(`crashes ${task.crashes}`);
  if (task.requeued > 0) facts.push(`requeued ${task.requeued} time(s) before`);
  if (task.delivery_count !== null) facts.push(`looked at ${task.delivery_count} time(s)`);
  if (facts.length > 0) lines.push(`   ${facts.join(', ')}`);
  for (const crash of task.crash_log) lines.push(`   crash: ${crash}`);
  return lines;
}

/** True when `message` is the one `id` names: its message id or, failing that, correlation id. */
export function isNamed(properties: MessageProperties, id: string): boolean {
  return properties.messageId === id || properties.correlationId === id;
}

function typeOfBody(content: Buffer, properties: MessageProperties): string | null {
  const route = routeTask(content, properties.contentType);
  return route.ok ? route.type : null;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function headerText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return null;
}

function count(value: unknown): number | null {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

function secondsToIso(value: unknown): string | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
    ? new Date(value * 1000).toISOString()
    : null;
}

/** The time of the newest entry of RabbitMQ's `x-death` list (a timestamp in seconds). */
function deathTime(value: unknown): string | null {
  if (!Array.isArray(value) || value.length === 0) return null;
  const time = (value[0] as { time?: unknown })?.time;
  if (typeof time === 'number') return secondsToIso(time);
  // amqplib decodes a field of type timestamp as {'!': 'timestamp', value}.
  if (typeof time === 'object' && time !== null && 'value' in time)
    return secondsToIso((time as { value: unknown }).value);
  return null;
}
