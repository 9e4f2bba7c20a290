import { TqError } from '../errors.js';
import { NAME_CAP_CHARS } from '../tracking/limits.js';

/**
 * The messages of `taskqueue.cancels` (v1), one JSON object each:
 *
 * - a cancel `{v:1, kind:'cancel', taskId, at, by}`: the task whose tracked id (correlation_id,
 *   else message_id) is `taskId` is not to run; `at` when it was asked (ISO 8601 UTC), `by` the
 *   name of the API token that asked;
 * - a mark `{v:1, kind:'mark', id, at}`: published by a reader to itself, so that it knows it
 *   has read everything the stream held when it started (feed.ts).
 */
export type CancelMessage =
  | { v: 1; kind: 'cancel'; taskId: string; at: string; by: string }
  | { v: 1; kind: 'mark'; id: string; at: string };

/** Far above a real message (three names and a time): anything larger is not ours. */
export const CANCEL_MESSAGE_MAX_BYTES = 4 * 1024;

const FIELDS: Record<CancelMessage['kind'], readonly string[]> = {
  cancel: ['v', 'kind', 'taskId', 'at', 'by'],
  mark: ['v', 'kind', 'id', 'at'],
};
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export function encodeCancelMessage(message: CancelMessage): Buffer {
  return Buffer.from(JSON.stringify(message), 'utf8');
}

/**
 * Reads one message strictly: anyone who may publish to the stream may write to it, and what a
 * child acts on must be exactly a cancel. Throws TQ_ERR_CANCEL_INVALID saying what is wrong.
 */
export function parseCancelMessage(body: Buffer): CancelMessage {
  if (body.length > CANCEL_MESSAGE_MAX_BYTES)
    throw invalid(`${body.length} bytes is above ${CANCEL_MESSAGE_MAX_BYTES}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalid('not a JSON object');
  const o = parsed as Record<string, unknown>;
  if (o.v !== 1) throw invalid(`version ${JSON.stringify(o.v)?.slice(0, 20)} is not 1`);
  if (o.kind !== 'cancel' && o.kind !== 'mark')
    throw invalid(`unknown kind ${JSON.stringify(o.kind)?.slice(0, 50)}`);
  const allowed = FIELDS[o.kind];
  for (const key of Object.keys(o))
    if (!allowed.includes(key)) throw invalid(`unknown field ${key}`);
  const at = name(o, 'at');
  if (!ISO_TIME.test(at) || Number.isNaN(Date.parse(at)))
    throw invalid('at is not an ISO 8601 time');
  if (o.kind === 'mark') return { v: 1, kind: 'mark', id: name(o, 'id'), at };
  return { v: 1, kind: 'cancel', taskId: name(o, 'taskId'), at, by: name(o, 'by') };
}

function name(o: Record<string, unknown>, key: string): string {
  const value = o[key];
  if (typeof value !== 'string' || value === '' || value.length > NAME_CAP_CHARS)
    throw invalid(`${key} is not a text of 1 to ${NAME_CAP_CHARS} characters`);
  return value;
}

function invalid(why: string): TqError {
  return new TqError('TQ_ERR_CANCEL_INVALID', `invalid cancel message: ${why}`);
}
