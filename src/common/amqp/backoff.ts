/** Bounds of the reconnect delay. */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 200, maxMs: 10_000 };

/**
 * The delay before attempt number `attempt` (0 for the first retry): exponential, capped, and
 * jittered over [50 %, 100 %] of the capped value so that many clients losing the same broker do
 * not all come back at the same instant.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  return Math.round(backoffDelayBound(attempt, options) * (0.5 + Math.random() * 0.5));
}

/** The upper bound of `backoffDelay(attempt)`: the capped exponential before the jitter. */
export function backoffDelayBound(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
): number {
  const exponential = options.baseMs * 2 ** Math.min(attempt, 30);
  return Math.min(options.maxMs, exponential);
}
