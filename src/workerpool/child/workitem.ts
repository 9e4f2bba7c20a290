import type { Workitem } from '@taskqueue/plugin-api';
import type { MessageProperties } from 'amqplib';
import { isPlainText, plainTextParts } from '../../common/content-type.js';

/**
 * The workitem a plugin gets from a task message. JSON bodies are passed as they are; a
 * `text/plain` body `"<type> <rest>"` becomes a Ruote-shaped workitem so plugins need one shape.
 */
export function parseWorkitem(content: Buffer, properties: MessageProperties): Workitem {
  // A UTF-8 byte order mark is dropped, as the dispatcher's decoder drops it when it routes.
  const text = stripBom(content.toString('utf8'));
  if (isPlainText(properties.contentType)) {
    const { type, rest } = plainTextParts(text);
    return { fields: { params: { worker_type: type }, text: rest } };
  }
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('task body is not a JSON object');
  }
  return parsed as Workitem;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The task's id for logs and for the plugin: correlation_id, else message_id, else made up. */
export function taskIdOf(properties: MessageProperties, fallback: () => string): string {
  return properties.correlationId ?? properties.messageId ?? fallback();
}

// The error results are the engine's, shared with `runTask`; exported here for those who import them.
export { errorWorkitem, shallowErrorWorkitem } from '@taskqueue/plugin-api/engine';
