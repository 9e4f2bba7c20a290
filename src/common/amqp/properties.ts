import type { MessageProperties, Options } from 'amqplib';
import { DROPPED_HEADERS_HEADER, SYSTEM_HEADER_PREFIX } from './wire.js';

/** Named in wire.ts; re-exported for the callers that read it from here. */
export { DROPPED_HEADERS_HEADER };

/**
 * The publish options that carry a consumed message's properties on unchanged, made persistent.
 * `userId` is left out: the broker checks it against the publishing connection's user and would
 * close the channel for a message that came from another user.
 */
export function forwardProperties(
  properties: MessageProperties,
  extraHeaders?: Record<string, unknown>,
): Options.Publish {
  const options: Options.Publish = { persistent: true };
  if (properties.contentType !== undefined) options.contentType = properties.contentType;
  if (properties.contentEncoding !== undefined)
    options.contentEncoding = properties.contentEncoding;
  // Without extra headers the message's own table goes on as it is: the publisher copies it into
  // a table it reuses (reusable-headers.ts), and a copy here would be made for nothing.
  if (extraHeaders) options.headers = { ...(properties.headers ?? {}), ...extraHeaders };
  else if (properties.headers !== undefined) options.headers = properties.headers;
  if (properties.priority !== undefined) options.priority = properties.priority;
  if (properties.correlationId !== undefined) options.correlationId = properties.correlationId;
  if (properties.replyTo !== undefined) options.replyTo = properties.replyTo;
  if (properties.expiration !== undefined) options.expiration = properties.expiration;
  if (properties.messageId !== undefined) options.messageId = properties.messageId;
  if (properties.timestamp !== undefined) options.timestamp = properties.timestamp;
  if (properties.type !== undefined) options.type = properties.type;
  if (properties.appId !== undefined) options.appId = properties.appId;
  return options;
}

/** The longest value of an AMQP short string property (content type, ids, reply_to…). */
const MAX_SHORT_STRING_BYTES = 255;

const SHORT_STRING_PROPERTIES = [
  'contentType',
  'contentEncoding',
  'correlationId',
  'replyTo',
  'expiration',
  'messageId',
  'type',
  'appId',
] as const;

/**
 * A copy of publish `options` that can be encoded, for a message whose properties came from
 * another client in a form amqplib reads but cannot write again (a timestamp at 2^64 - 1, a
 * short string whose invalid UTF-8 grew past 255 bytes as U+FFFD): used only after a publish
 * failed with TQ_ERR_AMQP_ENCODE. The sender's headers are dropped but for the system's own
 * `x-taskqueue-*` ones of plain shape, and `DROPPED_HEADERS_HEADER` names what was dropped and
 * why; a short string or timestamp that cannot be written is left out.
 */
export function encodableCopy(options: Options.Publish, why: string): Options.Publish {
  const copy: Options.Publish = { persistent: options.persistent ?? true };
  if (options.mandatory !== undefined) copy.mandatory = options.mandatory;
  for (const key of SHORT_STRING_PROPERTIES) {
    const value = options[key];
    if (typeof value === 'string' && Buffer.byteLength(value) <= MAX_SHORT_STRING_BYTES)
      copy[key] = value;
  }
  if (typeof options.priority === 'number' && Number.isInteger(options.priority))
    copy.priority = Math.min(255, Math.max(0, options.priority));
  if (typeof options.timestamp === 'number' && Number.isSafeInteger(options.timestamp))
    copy.timestamp = options.timestamp;
  const headers: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (name.startsWith(SYSTEM_HEADER_PREFIX) && plainValue(value)) headers[name] = value;
    else dropped.push(name);
  }
  const names = dropped.map((name) => JSON.stringify(name.slice(0, 60))).join(', ');
  headers[DROPPED_HEADERS_HEADER] =
    `properties could not be encoded again (${why.slice(0, 200)}); dropped headers: ${names || 'none'}`.slice(
      0,
      1000,
    );
  copy.headers = headers;
  return copy;
}

/** A header value the system itself writes: a short string, a safe integer, a list of strings. */
function plainValue(value: unknown): boolean {
  if (typeof value === 'string') return Buffer.byteLength(value) <= 4096;
  if (typeof value === 'number') return Number.isSafeInteger(value);
  return (
    Array.isArray(value) &&
    value.length <= 100 &&
    value.every((item) => typeof item === 'string' && item.length <= 4096)
  );
}
