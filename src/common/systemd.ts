import { execFile } from 'node:child_process';
import type { Logger } from './logger.js';

/**
 * Tells systemd about the daemon's state (`Type=notify` units): `READY=1` once it is connected
 * and consuming, `RELOADING=1` / `READY=1` around a reload. (No `STOPPING=1`: systemd sent the
 * SIGTERM itself, and systemd-notify failed for it once the stop had begun.)
 *
 * It runs `systemd-notify --pid=<our pid>` rather than writing the datagram itself: Node has no
 * Unix datagram sockets. The unit needs `NotifyAccess=all`, since the message comes from that
 * helper process. Without `NOTIFY_SOCKET` (not under systemd) it does nothing.
 */
export function notifySystemd(log: Logger, ...assignments: string[]): Promise<void> {
  if (!process.env.NOTIFY_SOCKET) return Promise.resolve();
  return new Promise((resolve) => {
    execFile(
      'systemd-notify',
      [`--pid=${process.pid}`, ...assignments],
      { timeout: 5_000 },
      (err, _stdout, stderr) => {
        // Not fatal: the daemon works; systemd alone would miss the news (and time the start out).
        if (err) log.warn({ err: err.message, stderr, assignments }, 'systemd-notify failed');
        resolve();
      },
    );
  });
}
