import type { Logger } from '../logger.js';
import { notifySystemd } from '../systemd.js';

/**
 * The interval of a daemon's WATCHDOG=1 pings: half of the WATCHDOG_USEC that systemd sets for
 * a unit with WatchdogSec=, as sd_watchdog_enabled() reads it (a WATCHDOG_PID naming another
 * process means the watchdog is not ours). Undefined: no watchdog.
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isSafeInteger(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2_000));
}

/**
 * Pings systemd's watchdog from a timer on the event loop: a daemon whose loop is stuck (a
 * blocking call, an endless loop) stops pinging, and systemd kills it (WatchdogSignal, SIGABRT)
 * and restarts it (Restart=on-failure). Nothing without WATCHDOG_USEC or NOTIFY_SOCKET. Returns
 * the function that stops it.
 */
export function startWatchdog(log: Logger, env: NodeJS.ProcessEnv = process.env): () => void {
  const intervalMs = watchdogIntervalMs(env, process.pid);
  if (intervalMs === undefined || !env.NOTIFY_SOCKET) return () => {};
  log.info({ intervalMs }, 'systemd watchdog on: pinging');
  const ping = () => void notifySystemd(log, 'WATCHDOG=1');
  ping();
  // A timer, not a thread: it fires only while the loop turns, which is what systemd is to know.
  const timer = setInterval(ping, intervalMs).unref();
  return () => clearInterval(timer);
}
