/**
 * The supervisor's time: when now is, and timers. The pool uses `realClock`; unit tests pass a
 * fake one they advance by hand, so restart delays and pauses are tested without waiting them
 * out.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` once after `ms`; the returned handle is for `clear`. */
  setTimeout(fn: () => void, ms: number): ClockTimer;
  /** Calls `fn` every `ms`; does not keep the process alive by itself. */
  setInterval(fn: () => void, ms: number): ClockTimer;
  /** Cancels a timer of either kind; undefined or a fired timer is fine. */
  clear(timer: ClockTimer | undefined): void;
}

/** An opaque timer handle. */
export type ClockTimer = object;

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clear: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
};
