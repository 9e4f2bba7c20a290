import { TqError } from '../errors.js';
import { EVENT_NAMES, EVENT_VERSION, type EventName, type WireEvent } from './event.js';
import {
  COPY_CAP_BYTES,
  CRASH_LOG_LINE_CHARS,
  CRASH_LOG_MAX_LINES,
  ERROR_CAP_CHARS,
  EVENT_MAX_BYTES,
  NAME_CAP_CHARS,
} from './limits.js';

const KNOWN_FIELDS = new Set([
  'v',
  'event',
  'taskId',
  'type',
  'at',
  'run',
  'attempt',
  'host',
  'pid',
  'user',
  'durationMs',
  'error',
  'errorCode',
  'crashLog',
  'nextAttemptAt',
  'notBefore',
  'expiresAt',
  'workitem',
  'result',
  'truncated',
]);
const EVENTS = new Set<string>(EVENT_NAMES);
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Reads one event message strictly: its publishers run plugin code, so every field is checked
 * for its kind and size, unknown fields and events are refused, and the whole body is bounded
 * before it is parsed. Throws TQ_ERR_EVENT_INVALID saying what is wrong.
 */
export function parseEvent(body: Buffer): WireEvent {
  if (body.length > EVENT_MAX_BYTES)
    throw invalid(`event of ${body.length} bytes is above ${EVENT_MAX_BYTES}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw invalid(`not JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalid('not a JSON object');
  const o = parsed as Record<string, unknown>;
  for (const key of Object.keys(o))
    if (!KNOWN_FIELDS.has(key)) throw invalid(`unknown field ${key}`);
  if (o.v !== EVENT_VERSION)
    throw invalid(`version ${JSON.stringify(o.v)} is not ${EVENT_VERSION}`);
  if (typeof o.event !== 'string' || !EVENTS.has(o.event))
    throw invalid(`unknown event ${JSON.stringify(o.event)?.slice(0, 50)}`);
  const event = o.event as EventName;
  const out: WireEvent = {
    v: EVENT_VERSION,
    event,
    taskId: name(o, 'taskId', true)!,
    type: name(o, 'type', true, event === 'invalid')!,
    at: time(o, 'at', true)!,
  };
  const run = integer(o, 'run', 1);
  if (run !== undefined) out.run = run;
  const attempt = integer(o, 'attempt', 1);
  if (attempt !== undefined) out.attempt = attempt;
  const pid = integer(o, 'pid', 1);
  if (pid !== undefined) out.pid = pid;
  const durationMs = integer(o, 'durationMs', 0);
  if (durationMs !== undefined) out.durationMs = durationMs;
  for (const key of ['host', 'user', 'errorCode'] as const) {
    const value = name(o, key, false);
    if (value !== undefined) out[key] = value;
  }
  const error = string(o, 'error', ERROR_CAP_CHARS);
  if (error !== undefined) out.error = error;
  const nextAttemptAt = time(o, 'nextAttemptAt', false);
  if (nextAttemptAt !== undefined) out.nextAttemptAt = nextAttemptAt;
  for (const key of ['notBefore', 'expiresAt'] as const) {
    const value = time(o, key, false);
    if (value === undefined) continue;
    if (event !== 'received') throw invalid(`${key} on a ${event} event`);
    out[key] = value;
  }
  if (o.crashLog !== undefined) {
    const log = o.crashLog;
    if (!Array.isArray(log) || log.length > CRASH_LOG_MAX_LINES)
      throw invalid(`crashLog is not a list of at most ${CRASH_LOG_MAX_LINES} lines`);
    for (const line of log)
      if (typeof line !== 'string' || line.length > CRASH_LOG_LINE_CHARS)
        throw invalid(
          `a crashLog line is not a text of at most ${CRASH_LOG_LINE_CHARS} characters`,
        );
    out.crashLog = log as string[];
  }
  if (o.truncated !== undefined) {
    if (typeof o.truncated !== 'boolean') throw invalid('truncated is not a boolean');
    out.truncated = o.truncated;
  }
  if (o.workitem !== undefined) {
    if (event !== 'received' && event !== 'invalid') throw invalid(`workitem on a ${event} event`);
    out.workitem = copy(o, 'workitem');
  }
  if (o.result !== undefined) {
    if (!['succeeded', 'failed', 'poisoned', 'expired'].includes(event))
      throw invalid(`result on a ${event} event`);
    out.result = copy(o, 'result');
  }
  return out;
}

function invalid(why: string): TqError {
  return new TqError('TQ_ERR_EVENT_INVALID', `invalid lifecycle event: ${why}`);
}

function string(o: Record<string, unknown>, key: string, max: number): string | undefined {
  const value = o[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > max)
    throw invalid(`${key} is not a text of at most ${max} characters`);
  return value;
}

function name(
  o: Record<string, unknown>,
  key: string,
  required: boolean,
  emptyAllowed = false,
): string | undefined {
  const value = string(o, key, NAME_CAP_CHARS);
  if (value === undefined) {
    if (required) throw invalid(`${key} is missing`);
    return undefined;
  }
  if (value === '' && !emptyAllowed) throw invalid(`${key} is empty`);
  return value;
}

function time(o: Record<string, unknown>, key: string, required: boolean): string | undefined {
  const value = name(o, key, required);
  if (value === undefined) return undefined;
  if (!ISO_TIME.test(value) || Number.isNaN(Date.parse(value)))
    throw invalid(`${key} is not an ISO 8601 time`);
  return value;
}

function integer(o: Record<string, unknown>, key: string, min: number): number | undefined {
  const value = o[key];
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < min)
    throw invalid(`${key} is not an integer ≥ ${min}`);
  return value as number;
}

/** A copy is bounded by its JSON size (with room for escaping), whatever its shape. */
function copy(o: Record<string, unknown>, key: string): unknown {
  const value = o[key];
  const bytes = Buffer.byteLength(JSON.stringify(value));
  // A cut copy is a string, and escaping may make its JSON up to 6 times its bytes.
  if (bytes > COPY_CAP_BYTES * 6 + 2) throw invalid(`${key} of ${bytes} bytes is above the cap`);
  return value;
}
