/**
 * The status sockets' protocol, for the daemons (server.ts) and `taskqueue status` (the CLI):
 * one JSON request line, one JSON response line, then the daemon closes the connection.
 *
 *   → {"get":"status"}
 *   ← {"ok":true,"protocol":1,"status":{…the daemon's snapshot…}}
 *   ← {"ok":false,"protocol":1,"code":"TQ_ERR_STATUS_REQUEST","message":"…"}
 *
 * JSON lines rather than HTTP over the socket: nothing to parse but one bounded line, no HTTP
 * server in the daemons for a single question, and an operator can ask by hand with
 * `echo '{"get":"status"}' | nc -U /run/taskqueue/workerpool/status.sock`. (Metrics, which a
 * scraper reads over HTTP, are another endpoint.)
 */

/** Changes when a field of the response changes meaning or goes away (new fields do not). */
export const STATUS_PROTOCOL = 1;

/** A request line longer than this is refused unread: a request is a few bytes. */
export const MAX_REQUEST_BYTES = 1024;

/** A client that has not sent its whole request line by then is disconnected. */
export const REQUEST_TIMEOUT_MS = 2_000;

/** Connections served at once; more are closed at once by the daemon (never queued). */
export const MAX_CONNECTIONS = 8;

/** What a client may ask. */
export interface StatusRequest {
  get: 'status';
}

/** The daemon's answer. */
export type StatusResponse =
  | { ok: true; protocol: number; status: unknown }
  | { ok: false; protocol: number; code: string; message: string };

/** A request line (without its newline) read, or why it is not one. */
export type ParsedRequest =
  | { ok: true; request: StatusRequest }
  | { ok: false; code: 'TQ_ERR_STATUS_REQUEST'; message: string };

/** Reads one request line; never throws, whatever a client sends. */
export function parseStatusRequest(line: string): ParsedRequest {
  const refuse = (message: string): ParsedRequest => ({
    ok: false,
    code: 'TQ_ERR_STATUS_REQUEST',
    message,
  });
  if (Buffer.byteLength(line) > MAX_REQUEST_BYTES)
    return refuse(`request longer than ${MAX_REQUEST_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return refuse('request is not JSON: send {"get":"status"} and a newline');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return refuse('request is not a JSON object: send {"get":"status"}');
  const get = (value as { get?: unknown }).get;
  if (get !== 'status')
    return refuse(`unknown request ${JSON.stringify(get)}: send {"get":"status"}`);
  return { ok: true, request: { get: 'status' } };
}

/** The line a daemon answers with (newline included). */
export function responseLine(response: StatusResponse): string {
  return `${JSON.stringify(response)}\n`;
}
