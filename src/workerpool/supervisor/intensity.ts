/**
 * Erlang/OTP's restart intensity: at most `maxRestarts` unplanned restarts within
 * `periodMs`. Past that the group stops restarting and is marked failed, loudly, instead of
 * spinning.
 */
export class RestartIntensity {
  readonly maxRestarts: number;
  readonly periodMs: number;
  #times: number[] = [];

  constructor(maxRestarts: number, periodMs: number) {
    this.maxRestarts = maxRestarts;
    this.periodMs = periodMs;
  }

  /** Records one restart at `now`; false once the limit is exceeded. */
  record(now = Date.now()): boolean {
    this.#times = this.#times.filter((t) => now - t < this.periodMs);
    this.#times.push(now);
    return this.#times.length <= this.maxRestarts;
  }

  /** Restarts recorded within the period (for backoff and logs). */
  recent(now = Date.now()): number {
    return this.#times.filter((t) => now - t < this.periodMs).length;
  }

  reset(): void {
    this.#times = [];
  }
}
