import { isPlainText, plainTextParts } from '../common/content-type.js';
import { workerTypeProblem } from '../common/worker-type.js';

export type Route = { ok: true; type: string } | { ok: false; reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Finds the worker type of an input message, or why it has none. Accepted: a Ruote workitem
 * (`fields.params.worker_type`), a JSON object with a top-level `worker_type`, and a `text/plain`
 * body `"<type> <rest>"`.
 */
export function routeTask(content: Buffer, contentType: string | undefined): Route {
  let text: string;
  try {
    text = utf8.decode(content);
  } catch {
    return { ok: false, reason: 'body is not valid UTF-8' };
  }
  if (isPlainText(contentType)) return checkType(plainTextParts(text).type);
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
  if (type === undefined) {
    return {
      ok: false,
      reason: 'no worker type: neither fields.params.worker_type nor worker_type',
    };
  }
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

function checkType(type: string): Route {
  const problem = workerTypeProblem(type);
  return problem === undefined
    ? { ok: true, type }
    : { ok: false, reason: `worker type ${problem}` };
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
