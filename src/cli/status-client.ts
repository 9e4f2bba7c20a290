import { createConnection } from 'node:net';
import { type ErrorCode, ErrorCodes } from '../common/errors.js';
import { STATUS_PROTOCOL } from '../common/status/protocol.js';

/** How long a daemon may take to answer. */
export const STATUS_TIMEOUT_MS = 5_000;
/** A larger answer is not a status (a pool of thousands of children stays far below). */
const MAX_RESPONSE_BYTES = 16 * 1024 ** 2;

/** One daemon's answer, or why there is none. */
export type StatusAnswer =
  | { socket: string; status: { daemon: string } & Record<string, unknown> }
  | { socket: string; error: { code: ErrorCode; message: string } };

/**
 * Asks the daemon listening on `socket` for its status (common/status/protocol.ts). Never
 * throws: a daemon that cannot be asked is an answer too (TQ_ERR_STATUS_UNREACHABLE, or
 * TQ_ERR_STATUS_DENIED when the socket refuses this user).
 */
export function askStatus(socket: string, timeoutMs = STATUS_TIMEOUT_MS): Promise<StatusAnswer> {
  return new Promise((resolve) => {
    const connection = createConnection(socket);
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    const finish = (answer: StatusAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      connection.destroy();
      resolve(answer);
    };
    const fail = (code: ErrorCode, message: string) => finish({ socket, error: { code, message } });
    const timer = setTimeout(
      () => fail('TQ_ERR_STATUS_UNREACHABLE', `${socket}: no answer within ${timeoutMs / 1000} s`),
      timeoutMs,
    );
    connection.on('connect', () => connection.write('{"get":"status"}\n'));
    connection.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EACCES' || err.code === 'EPERM')
        fail(
          'TQ_ERR_STATUS_DENIED',
          `${socket}: permission denied: only root and members of group taskqueue may ask ` +
            '(adduser $USER taskqueue, then log in again)',
        );
      else if (err.code === 'ENOENT')
        fail('TQ_ERR_STATUS_UNREACHABLE', `${socket}: no such socket: is the daemon running?`);
      else if (err.code === 'ECONNREFUSED')
        fail(
          'TQ_ERR_STATUS_UNREACHABLE',
          `${socket}: nobody listens on it: is the daemon running?`,
        );
      else fail('TQ_ERR_STATUS_UNREACHABLE', `${socket}: ${err.message}`);
    });
    connection.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_RESPONSE_BYTES) {
        fail(
          'TQ_ERR_STATUS_UNREACHABLE',
          `${socket}: answer larger than ${MAX_RESPONSE_BYTES} bytes`,
        );
        return;
      }
      chunks.push(chunk);
      if (chunk.includes(0x0a)) finish(readAnswer(socket, Buffer.concat(chunks)));
    });
    connection.on('end', () => finish(readAnswer(socket, Buffer.concat(chunks))));
  });
}

/** The response line as an answer; anything but a status of our protocol is no answer. */
export function readAnswer(socket: string, data: Buffer): StatusAnswer {
  const line = data.toString('utf8').split('\n')[0] ?? '';
  const unreachable = (why: string): StatusAnswer => ({
    socket,
    error: { code: 'TQ_ERR_STATUS_UNREACHABLE', message: `${socket}: ${why}` },
  });
  if (line.trim() === '')
    return unreachable('closed without an answer (too many clients at once?)');
  let response: unknown;
  try {
    response = JSON.parse(line);
  } catch {
    return unreachable('answered with what is not JSON: not a taskqueue status socket?');
  }
  if (typeof response !== 'object' || response === null) return unreachable('answered oddly');
  const { ok, protocol, status, code, message } = response as Record<string, unknown>;
  if (protocol !== STATUS_PROTOCOL)
    return unreachable(
      `speaks status protocol ${String(protocol)}, this command ${STATUS_PROTOCOL}`,
    );
  if (ok !== true) {
    const known = typeof code === 'string' && Object.hasOwn(ErrorCodes, code);
    return {
      socket,
      error: {
        code: known ? (code as ErrorCode) : 'TQ_ERR_STATUS_UNREACHABLE',
        message: `${socket}: ${String(message)}`,
      },
    };
  }
  if (
    typeof status !== 'object' ||
    status === null ||
    typeof (status as { daemon?: unknown }).daemon !== 'string'
  )
    return unreachable('answered without a status');
  return { socket, status: status as { daemon: string } & Record<string, unknown> };
}
