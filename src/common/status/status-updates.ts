import type { Logger } from '../logger.js';
import { notifySystemd } from '../systemd.js';

/**
 * A daemon's one-line summary for systemd's `STATUS=` (what `systemctl status` shows), and what
 * of it is its state: `key` changes when the state does (a group failed, the intake paused), not
 * with mere counts.
 */
export interface StatusLine {
  line: string;
  key: string;
}

/** How often the summary is looked at. */
export const STATUS_POLL_MS = 1_000;
/** A summary whose counts alone changed is sent again at most this often. */
export const STATUS_REFRESH_MS = 10_000;

/**
 * Decides when systemd hears a new STATUS= line: a change of state at the next look (within
 * STATUS_POLL_MS), a change of counts alone at most every STATUS_REFRESH_MS, nothing while
 * nothing changes. Each line sent costs a systemd-notify process (systemd.ts), so never one per
 * task, whatever the load.
 */
export class StatusThrottle {
  #line: string | undefined;
  #key: string | undefined;
  #sentAt = Number.NEGATIVE_INFINITY;
  readonly #refreshMs: number;

  constructor(refreshMs = STATUS_REFRESH_MS) {
    this.#refreshMs = refreshMs;
  }

  /** The line to send now, or undefined. */
  next(current: StatusLine, now: number): string | undefined {
    if (current.line === this.#line) return undefined;
    if (current.key === this.#key && now - this.#sentAt < this.#refreshMs) return undefined;
    this.#line = current.line;
    this.#key = current.key;
    this.#sentAt = now;
    return current.line;
  }
}

/**
 * Keeps systemd's STATUS= current from `read()`, looked at every STATUS_POLL_MS; nothing at all
 * without NOTIFY_SOCKET (not under systemd). Returns the function that stops it.
 */
export function keepStatusCurrent(
  log: Logger,
  read: () => StatusLine,
  env: NodeJS.ProcessEnv = process.env,
): () => void {
  if (!env.NOTIFY_SOCKET) return () => {};
  const throttle = new StatusThrottle();
  let sending = false;
  const look = () => {
    if (sending) return; // a systemd-notify still running: the next look sends the news
    let line: string | undefined;
    try {
      line = throttle.next(read(), Date.now());
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'status line failed');
      return;
    }
    if (line === undefined) return;
    sending = true;
    void notifySystemd(log, `STATUS=${line}`).finally(() => {
      sending = false;
    });
  };
  look();
  const timer = setInterval(look, STATUS_POLL_MS).unref();
  return () => clearInterval(timer);
}
