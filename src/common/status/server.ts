import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, statSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../logger.js';
import {
  MAX_CONNECTIONS,
  MAX_REQUEST_BYTES,
  type ParsedRequest,
  parseStatusRequest,
  REQUEST_TIMEOUT_MS,
  responseLine,
  STATUS_PROTOCOL,
  type StatusResponse,
} from './protocol.js';

/** Who may connect: the daemon's user and this group (root always may). */
export const STATUS_GROUP = 'taskqueue';
/** rw for the owner and the group: connecting to a Unix socket needs write permission on it. */
export const STATUS_SOCKET_MODE = 0o660;
/** How long a socket found at start may take to answer before it counts as stale. */
const STALE_CHECK_MS = 1_000;

/**
 * A daemon's status socket (protocol.ts): a Unix stream socket at `path`, mode 0660, group
 * `taskqueue` when that group exists, so that root and the group's members may ask and nobody
 * else. It never stops the daemon: when it cannot open (its directory missing, another process
 * answering there, a file that is no socket in the way) it says why in one error line and the
 * daemon runs on without it.
 *
 * Serving never blocks the daemon: a request is one bounded line (MAX_REQUEST_BYTES) read within
 * REQUEST_TIMEOUT_MS, at most MAX_CONNECTIONS at once (the others are closed at once), and the
 * answer is the snapshot the daemon builds synchronously from what it holds in memory.
 */
export class StatusServer {
  readonly path: string;
  #snapshot: () => unknown;
  #log: Logger;
  #server: Server | undefined;
  #sockets = new Set<Socket>();

  constructor(path: string, snapshot: () => unknown, log: Logger) {
    this.path = path;
    this.#snapshot = snapshot;
    this.#log = log;
  }

  /** Opens the socket; false (said in the log) when it cannot. */
  async open(): Promise<boolean> {
    const dir = dirname(this.path);
    if (!existsSync(dir)) {
      // Outside systemd (a test, `npm start`) the default's directory is not there: not an error.
      this.#log.warn(
        { code: 'TQ_ERR_STATUS_SOCKET', path: this.path },
        `status socket off: its directory ${dir} does not exist (the unit's RuntimeDirectory= makes it)`,
      );
      return false;
    }
    const blocked = await this.#clearWay();
    if (blocked !== undefined) {
      this.#log.error(
        { code: 'TQ_ERR_STATUS_SOCKET', path: this.path },
        `status socket off: ${blocked}`,
      );
      return false;
    }
    const server = createServer((socket) => this.#serve(socket));
    server.maxConnections = MAX_CONNECTIONS;
    try {
      await listenPrivately(server, this.path);
    } catch (err) {
      this.#log.error(
        { code: 'TQ_ERR_STATUS_SOCKET', path: this.path, err: (err as Error).message },
        `status socket off: cannot listen on ${this.path}`,
      );
      return false;
    }
    // The daemon's own work keeps it alive, not its status socket.
    server.unref();
    this.#server = server;
    const group = this.#restrict();
    this.#log.info({ path: this.path, mode: '0660', group }, 'status socket open');
    return true;
  }

  /** Stops serving and removes the socket (libuv unlinks it when the server closes); idempotent. */
  close(): void {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.close();
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Why the socket cannot be made at `path`, or undefined once the way is clear. */
  async #clearWay(): Promise<string | undefined> {
    let isSocket: boolean;
    try {
      isSocket = lstatSync(this.path).isSocket();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return `cannot look at ${this.path}: ${(err as Error).message}`;
    }
    if (!isSocket) return `${this.path} exists and is not a socket; it is left alone`;
    const answer = await probe(this.path);
    if (answer === 'live')
      return `another process listens on ${this.path} (a daemon with the same status_socket?)`;
    if (answer !== 'stale') return `cannot check ${this.path}: ${answer}`;
    // Left by a daemon that was killed: nobody listens on it.
    try {
      unlinkSync(this.path);
    } catch (err) {
      return `cannot remove the stale ${this.path}: ${(err as Error).message}`;
    }
    this.#log.info({ path: this.path }, 'removed a stale status socket');
    return undefined;
  }

  /**
   * Gives the socket to group taskqueue (the dispatcher's files have it already; the pool, root
   * without CAP_CHOWN, may as a member: its unit's SupplementaryGroups=). The group's name, or
   * undefined when it stays the daemon's own.
   */
  #restrict(): string | undefined {
    chmodSync(this.path, STATUS_SOCKET_MODE);
    const gid = groupId(STATUS_GROUP);
    if (gid === undefined) return undefined;
    if (statSync(this.path).gid === gid) return STATUS_GROUP;
    try {
      chownSync(this.path, -1, gid);
      return STATUS_GROUP;
    } catch (err) {
      this.#log.warn(
        { code: 'TQ_ERR_STATUS_SOCKET', path: this.path, err: (err as Error).message },
        `status socket not given to group ${STATUS_GROUP}: only root may ask`,
      );
      return undefined;
    }
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {}); // a client gone: nothing to do
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
    const chunks: Buffer[] = [];
    let bytes = 0;
    let answered = false;
    const answer = (request: ParsedRequest) => {
      if (answered) return;
      answered = true;
      socket.end(responseLine(this.#respond(request)));
    };
    const requestLine = () => parseStatusRequest(Buffer.concat(chunks).toString('utf8').trim());
    socket.on('data', (chunk: Buffer) => {
      if (answered) return;
      const newline = chunk.indexOf(0x0a);
      const part = newline === -1 ? chunk : chunk.subarray(0, newline);
      chunks.push(part);
      bytes += part.length;
      if (bytes > MAX_REQUEST_BYTES) answer(tooLong());
      else if (newline !== -1) answer(requestLine());
    });
    // A client that closes its side without a newline (printf … | nc -N) asked all the same.
    socket.on('end', () => answer(requestLine()));
  }

  #respond(request: ParsedRequest): StatusResponse {
    if (!request.ok)
      return { ok: false, protocol: STATUS_PROTOCOL, code: request.code, message: request.message };
    try {
      return { ok: true, protocol: STATUS_PROTOCOL, status: this.#snapshot() };
    } catch (err) {
      this.#log.error({ err }, 'status snapshot failed');
      return {
        ok: false,
        protocol: STATUS_PROTOCOL,
        code: 'TQ_ERR_STATUS_UNREACHABLE',
        message: `the daemon could not build its status: ${(err as Error).message}`,
      };
    }
  }
}

/** The refusal of a request line past MAX_REQUEST_BYTES, which is not read further. */
function tooLong(): ParsedRequest {
  return {
    ok: false,
    code: 'TQ_ERR_STATUS_REQUEST',
    message: `request longer than ${MAX_REQUEST_BYTES} bytes`,
  };
}

/**
 * Listens with a umask that makes the socket 0660 from its first instant (bind creates it
 * synchronously within listen()), so it is never reachable by others, not even until chmod.
 */
function listenPrivately(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const umask = process.umask(0o117);
    try {
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
}

/** Whether something listens on the socket at `path`: live, stale, or the error met. */
function probe(path: string): Promise<'live' | 'stale' | string> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    const done = (answer: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    // Something that accepts but does not answer in time is still someone else's.
    const timer = setTimeout(() => done('live'), STALE_CHECK_MS);
    socket.once('connect', () => done('live'));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? 'stale' : err.message),
    );
  });
}

/** A group's id from the user database (NSS), or undefined when there is no such group. */
function groupId(name: string): number | undefined {
  try {
    const entry = execFileSync('getent', ['group', name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const gid = Number(entry.split(':')[2]);
    return Number.isSafeInteger(gid) ? gid : undefined;
  } catch {
    return undefined;
  }
}
