/**
 * Erlang/OTP's restart intensity: at most `maxRestarts` unplanned restarts within
 * `periodMs`. Past that the group stops restarting for a while (pause.ts) and says so, loudly,
 * instead of spinning.
 */
export class RestartIntensity {
  readonly maxRestarts: number;
  readonly periodMs: number;
  /** When each recent restart was recorded, and whether its child was killed from outside. */
  #times: Array<{ at: number; fromOutside: boolean }> = [];

  constructor(maxRestarts: number, periodMs: number) {
    this.maxRestarts = maxRestarts;
    this.periodMs = periodMs;
  }

  /**
   * Records one restart at `now`; false once the limit is exceeded. `fromOutside`: its child was
   * killed by a signal the pool did not send; it still counts (the OOM killer may be the
   * plugin's doing, and each restart costs a process start), but is not the plugin's failure.
   */
  record(now = Date.now(), fromOutside = false): boolean {
    this.#times = this.#times.filter((t) => now - t.at < this.periodMs);
    this.#times.push({ at: now, fromOutside });
    return this.#times.length <= this.maxRestarts;
  }

  /** Restarts recorded within the period (for backoff and logs). */
  recent(now = Date.now()): number {
    return this.#times.filter((t) => now - t.at < this.periodMs).length;
  }

  /** True when every restart within the period followed a kill from outside. */
  onlyFromOutside(now = Date.now()): boolean {
    const recent = this.#times.filter((t) => now - t.at < this.periodMs);
    return recent.length > 0 && recent.every((t) => t.fromOutside);
  }

  reset(): void {
    this.#times = [];
  }
}
