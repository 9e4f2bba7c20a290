import { TqError } from '../../common/errors.js';
import type { ApiTarget } from './target.js';

/** A person is waiting: an API that does not answer by then is reported, not waited for. */
const REQUEST_TIMEOUT_MS = 15_000;

/**
 * GETs `path` from the API and returns its JSON. The API's own refusals (`{error: {code,
 * message}}`) become TQ_ERR_CLI_API_REFUSED with the API's code in the message and details; no
 * answer, or an answer that is not the API's JSON, TQ_ERR_CLI_API_UNREACHABLE.
 */
export function apiGet(target: ApiTarget, path: string): Promise<unknown> {
  return apiRequest(target, 'GET', path, undefined);
}

/** POSTs `body` as JSON to `path` and returns the API's JSON, with the errors of apiGet. */
export function apiPost(target: ApiTarget, path: string, body: unknown): Promise<unknown> {
  return apiRequest(target, 'POST', path, body);
}

async function apiRequest(
  target: ApiTarget,
  method: 'GET' | 'POST',
  path: string,
  payload: unknown,
): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (target.token !== undefined) headers.authorization = `Bearer ${target.token}`;
  const init: RequestInit = { method, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(payload);
  }
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, init);
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new TqError(
      'TQ_ERR_CLI_API_UNREACHABLE',
      `API ${target.url} did not answer: ${cause ?? (err as Error).message}`,
      { cause: err },
    );
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch (err) {
    throw new TqError(
      'TQ_ERR_CLI_API_UNREACHABLE',
      `API ${target.url} answered HTTP ${response.status} without JSON: is it the taskqueue API?`,
      { cause: err },
    );
  }
  if (response.ok) return body;
  const error = (body as { error?: { code?: unknown; message?: unknown } }).error;
  const code = typeof error?.code === 'string' ? error.code : `HTTP ${response.status}`;
  const message = typeof error?.message === 'string' ? error.message : 'no message';
  throw new TqError('TQ_ERR_CLI_API_REFUSED', `API: ${message} (${code})`, {
    details: { status: response.status, apiCode: code },
  });
}
