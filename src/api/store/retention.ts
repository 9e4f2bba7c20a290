import type { RetentionPolicy, TaskStore } from './types.js';

const DAY = 24 * 60 * 60;

/**
 * How long finished tasks are kept unless configured: failures longer than successes, since
 * they are what an operator comes back to look at (and retries from).
 */
export const DEFAULT_RETENTION: RetentionPolicy = {
  keepSeconds: {
    succeeded: 7 * DAY,
    cancelled: 7 * DAY,
    expired: 30 * DAY,
    failed: 30 * DAY,
    poisoned: 30 * DAY,
    invalid: 30 * DAY,
    incomplete: 30 * DAY,
  },
  chunk: 500,
};

/** The policy `[api] keep_succeeded` and `keep_failed` give (seconds, already converted). */
export function retentionFromConfig(keep: {
  keepSucceeded: number;
  keepFailed: number;
}): RetentionPolicy {
  return {
    keepSeconds: {
      succeeded: keep.keepSucceeded,
      cancelled: keep.keepSucceeded,
      expired: keep.keepFailed,
      failed: keep.keepFailed,
      poisoned: keep.keepFailed,
      invalid: keep.keepFailed,
      incomplete: keep.keepFailed,
    },
    chunk: DEFAULT_RETENTION.chunk,
  };
}

export interface RetentionSweeper {
  /** Sweeps now (also what the timer runs); resolves to the rows deleted. */
  sweepNow(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Sweeps `store` every `intervalMs`, one sweep at a time (a sweep longer than the interval is
 * not overlapped by the next). The store deletes `policy.chunk` rows a statement and yields
 * between chunks, so the API answers during a long sweep. A failed sweep is reported and the
 * next one tries again: retention is housekeeping, never a reason to stop the daemon.
 */
export function startRetention(
  store: TaskStore,
  policy: RetentionPolicy,
  options: {
    intervalMs: number;
    now?: () => Date;
    onSwept?: (deleted: number) => void;
    onError?: (err: unknown) => void;
  },
): RetentionSweeper {
  const now = options.now ?? (() => new Date());
  let running: Promise<number> | undefined;
  const sweepNow = () => {
    running ??= store.sweep(policy, now().toISOString()).finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    sweepNow().then(options.onSwept, options.onError);
  }, options.intervalMs);
  timer.unref();
  return {
    sweepNow,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
