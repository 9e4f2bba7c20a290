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
 * Unsent output past this is a peer that does not read (a child that asks and never takes the
 * answers): broken, rather than buffered without bound in this process.
 */
export const MAX_UNSENT_BYTES = 4 * MAX_LINE_BYTES;

/**
 * Messages between the pool and a child: one JSON object a line, over the socket pair the pool
 * creates at CHANNEL_FD. Events: `message` (In), `broken` (reason: the peer sent what is not a
 * message, or stopped reading; the channel is closed then), `close` (the peer went away or this
 * side closed; once).
 *
 * The peer may be hostile (a child runs plugin code): with `accept`, a line is a message only if
 * it passes that check, and nothing the peer sends, nor a listener's exception, can throw out of
 * the socket's data handler (which would take the whole process down).
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
  #accept: ((value: unknown) => value is In) | undefined;
  #maxLineBytes: number;

  /** `maxLineBytes`: a one-shot child's channel carries whole workitems (one-shot-ipc.ts). */
  constructor(
    socket: Socket,
    accept?: (value: unknown) => value is In,
    maxLineBytes = MAX_LINE_BYTES,
  ) {
    super();
    this.#socket = socket;
    this.#accept = accept;
    this.#maxLineBytes = maxLineBytes;
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
    if (this.#socket.writableLength > MAX_UNSENT_BYTES) {
      this.#broken('the peer does not read its messages');
      return;
    }
    this.#socket.write(`${JSON.stringify(message)}\n`, sent && (() => sent()));
  }

  /** Closes after what was sent is written; `close` follows. Idempotent. */
  close(): void {
    if (!this.open) return;
    this.#open = false;
    this.#socket.end(() => this.#socket.destroy());
  }

  #read(chunk: string): void {
    // Only the new chunk is searched: a long line arrives in many chunks.
    const searched = this.#pending.length;
    this.#pending += chunk;
    let end = this.#pending.indexOf('\n', searched);
    while (end !== -1) {
      const line = this.#pending.slice(0, end);
      this.#pending = this.#pending.slice(end + 1);
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        this.#broken('a line that is not JSON');
        return;
      }
      if (this.#accept && !this.#accept(message)) {
        this.#broken(`a malformed message: ${line.slice(0, 200)}`);
        return;
      }
      try {
        this.emit('message', message as In);
      } catch (err) {
        // What the message made a listener do failed: the peer is cut off, this process lives.
        this.#broken(`a message its listener failed on: ${(err as Error)?.message}`);
        return;
      }
      if (!this.#open) return; // closed by a listener: it wants no more
      end = this.#pending.indexOf('\n');
    }
    // A UTF-16 unit is at most 3 bytes in UTF-8: most chunks need no count of their bytes.
    const pending = this.#pending;
    if (pending.length * 3 > this.#maxLineBytes && Buffer.byteLength(pending) > this.#maxLineBytes)
      this.#broken('a line over the limit');
  }

  /** The peer does not speak this protocol: treated as gone, after `broken` says why. */
  #broken(reason: string): void {
    this.#pending = '';
    const wasOpen = this.#open;
    this.#open = false;
    this.#socket.destroy();
    if (!wasOpen) return;
    try {
      this.emit('broken', reason);
    } catch {
      // A listener failing on this too changes nothing: the channel is closed already.
    }
  }
}

/**
 * The child's channel to the pool, or undefined when CHANNEL_FD is not a socket (a child started
 * by hand, without a pool).
 */
export function openPoolChannel<In, Out>(
  fd = CHANNEL_FD,
  maxLineBytes = MAX_LINE_BYTES,
): Channel<In, Out> | undefined {
  try {
    if (!fstatSync(fd).isSocket()) return undefined;
  } catch {
    return undefined;
  }
  return new Channel<In, Out>(
    new Socket({ fd, readable: true, writable: true }),
    undefined,
    maxLineBytes,
  );
}
