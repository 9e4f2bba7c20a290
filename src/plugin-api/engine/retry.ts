import { isNonRetryable } from '../index.js';

/** What to do after a failed attempt. */
export interface RetryDecision {
  /** False when the error asked not to be retried (a NonRetryableError, by its flag). */
  retryable: boolean;
  /** True when another attempt is due: retryable and attempts remain. */
  retry: boolean;
}

/** The retry decision of a failed attempt `attempt` (1-based) of at most `maxAttempts`. */
export function retryDecision(error: unknown, attempt: number, maxAttempts: number): RetryDecision {
  const retryable = !isNonRetryable(error);
  return { retryable, retry: retryable && attempt < maxAttempts };
}
