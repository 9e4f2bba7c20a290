import { EventEmitter } from 'node:events';
import { fstatSync } from 'node:fs';
import { Socket } from 'node:net';

/** The child's descriptor of its channel to the pool: index 3 of the pool's `spawn` stdio. */
export const CHANNEL_FD = 3;

/**
 * A line longer than this is a broken peer, not a message: the largest, `start`, holds a group's
 * config section and the broker's address.
 */
export const MAX_LINE_BYTES = 1024 * 1024;

/**
 * Messages between the pool and a child: one JSON object a line, over the socket pair the pool
 * creates at CHANNEL_FD. Events: `message` (In), `close` (the peer went away or this side closed;
 * once).
 *
 * Not Node's IPC channel: a Node process started with one loads Node's child_process internals
 * at startup, 0.6 MiB more in every child after a full GC (bench/FINDINGS.md), for a handful of
 * messages in a child's life. A write to a peer that is gone fails with EPIPE: the socket is
 * destroyed and `close` emitted, never an error thrown at the sender.
 */
export class Channel<In, Out> extends EventEmitter {
  #socket: Socket;
  #pending = '';
  #open = true;

  constructor(socket: Socket) {
    super();
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#read(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.#open = false;
      this.emit('close');
    });
  }

  /** False once the peer went away or `close()` was called. */
  get open(): boolean {
    return this.#open && !this.#socket.destroyed;
  }

  /** Sends one message; `sent` runs once it is handed to the kernel. Dropped when closed. */
  send(message: Out, sent?: () => void): void {
    if (!this.open) return;
    this.#socket.write(`${JSON.stringify(message)}\n`, sent && (() => sent()));
  }

  /** Closes after what was sent is written; `close` follows. Idempotent. */
  close(): void {
    if (!this.open) return;
    this.#open = false;
    this.#socket.end(() => this.#socket.destroy());
  }

  #read(chunk: string): void {
    this.#pending += chunk;
    let end = this.#pending.indexOf('\n');
    while (end !== -1) {
      const line = this.#pending.slice(0, end);
      this.#pending = this.#pending.slice(end + 1);
      let message: In;
      try {
        message = JSON.parse(line) as In;
      } catch {
        this.#broken();
        return;
      }
      this.emit('message', message);
      if (!this.#open) return; // closed by a listener: it wants no more
      end = this.#pending.indexOf('\n');
    }
    if (Buffer.byteLength(this.#pending) > MAX_LINE_BYTES) this.#broken();
  }

  /** The peer does not speak this protocol: treated as gone. */
  #broken(): void {
    this.#pending = '';
    this.#open = false;
    this.#socket.destroy();
  }
}

/**
 * The child's channel to the pool, or undefined when CHANNEL_FD is not a socket (a child started
 * by hand, without a pool).
 */
export function openPoolChannel<In, Out>(fd = CHANNEL_FD): Channel<In, Out> | undefined {
  try {
    if (!fstatSync(fd).isSocket()) return undefined;
  } catch {
    return undefined;
  }
  return new Channel<In, Out>(new Socket({ fd, readable: true, writable: true }));
}
