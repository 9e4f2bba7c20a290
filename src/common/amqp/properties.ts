import type { MessageProperties, Options } from 'amqplib';

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
