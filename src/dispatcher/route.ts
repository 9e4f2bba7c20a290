import { isUtf8 } from 'node:buffer';
import { isPlainText, plainTextParts } from '../common/content-type.js';
import { workerTypeProblem } from '../common/worker-type.js';
import { type JsonValue, scanJson } from './json-scan.js';

export type Route = { ok: true; type: string } | { ok: false; reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bodies up to this size are parsed: `JSON.parse` is quicker on them than a scan in JavaScript
 * (a 64 KiB task: about a third of the scan's time), and the worst such body (`[{},{},…]`, or
 * deep nesting) holds the loop for tens of milliseconds at most. Larger ones are scanned.
 */
export const PARSE_MAX_BYTES = 64 * 1024;

/**
 * Finds the worker type of an input message, or why it has none. Accepted: a Ruote workitem
 * (`fields.params.worker_type`), a JSON object with a top-level `worker_type`, and a `text/plain`
 * body `"<type> <rest>"`. A JSON body above PARSE_MAX_BYTES is scanned, not parsed
 * (`json-scan.ts`): no body can hold the event loop for longer than a pass over its bytes.
 */
export function routeTask(content: Buffer, contentType: string | undefined): Route {
  if (isPlainText(contentType)) {
    let text: string;
    try {
      text = utf8.decode(content);
    } catch {
      return notUtf8;
    }
    return checkType(plainTextParts(text).type);
  }
  if (content.length <= PARSE_MAX_BYTES) return routeParsed(content);
  if (!isUtf8(content)) return notUtf8;
  const scan = scanJson(content);
  if (scan.kind === 'invalid') return { ok: false, reason: `body is not JSON: ${scan.reason}` };
  if (scan.kind === 'not-object') {
    return { ok: false, reason: `body is JSON but not an object (${scan.what})` };
  }
  // As `ruoteType(parsed) ?? parsed.worker_type` did: a null Ruote type falls back too.
  const ruote = isNull(scan.ruoteType) ? undefined : scan.ruoteType;
  const type = ruote ?? scan.topType;
  if (type === undefined) return noType;
  if (!('string' in type))
    return { ok: false, reason: `worker type is a ${type.kind}, not a string` };
  return checkType(type.string);
}

/** The small body's route: the whole tree is built, and read as the scanner reads the bytes. */
function routeParsed(content: Buffer): Route {
  let text: string;
  try {
    text = utf8.decode(content);
  } catch {
    return notUtf8;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `body is not JSON: ${(err as Error).message.slice(0, 200)}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: `body is JSON but not an object (${jsonKind(parsed)})` };
  }
  const type = ruoteType(parsed) ?? (parsed as { worker_type?: unknown }).worker_type;
  if (type === undefined) return noType;
  if (typeof type !== 'string')
    return { ok: false, reason: `worker type is a ${jsonKind(type)}, not a string` };
  return checkType(type);
}

function ruoteType(workitem: object): unknown {
  const fields = (workitem as { fields?: unknown }).fields;
  if (typeof fields !== 'object' || fields === null) return undefined;
  const params = (fields as { params?: unknown }).params;
  if (typeof params !== 'object' || params === null) return undefined;
  return (params as { worker_type?: unknown }).worker_type;
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

const noType: Route = {
  ok: false,
  reason: 'no worker type: neither fields.params.worker_type nor worker_type',
};

const notUtf8: Route = { ok: false, reason: 'body is not valid UTF-8' };

function isNull(value: JsonValue | undefined): boolean {
  return value !== undefined && 'kind' in value && value.kind === 'null';
}

function checkType(type: string): Route {
  const problem = workerTypeProblem(type);
  return problem === undefined
    ? { ok: true, type }
    : { ok: false, reason: `worker type ${problem}` };
}
