/**
 * How long a group rests each time its restart intensity trips, as Kubernetes' CrashLoopBackOff:
 * `baseMs` the first time, doubled on each trip after it, at most `maxMs`; forgotten once the
 * group ran with all its children for `healthyResetMs`. A plugin that cannot start is tried
 * less and less often; a group whose children were only killed for a while (a storm of kills
 * from outside) is back within seconds of the storm's end, not after the longest pause.
 *
 * Explicit clock readings (`now`) rather than timers: the group asks when something happens
 * (a child ready, a child gone), so a healthy group costs nothing.
 */
export class GroupPause {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly healthyResetMs: number;
  /** Trips since the group last ran healthy for healthyResetMs. */
  #trips = 0;
  /** Since when all the wanted children run, while they do. */
  #healthySince: number | undefined;

  constructor(baseMs: number, maxMs: number, healthyResetMs: number) {
    this.baseMs = baseMs;
    this.maxMs = maxMs;
    this.healthyResetMs = healthyResetMs;
  }

  /** Trips counted towards the next pause. */
  get trips(): number {
    return this.#trips;
  }

  /** The intensity tripped: the pause before the group is tried again. */
  tripped(now: number): number {
    this.unhealthy(now);
    const pause = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.#trips, 30));
    this.#trips++;
    return pause;
  }

  /** All the wanted children run (since `now`, unless they did already). */
  healthy(now: number): void {
    this.#healthySince ??= now;
  }

  /**
   * A child ended unasked: the healthy run, if any, ends. True when it lasted long enough to
   * forget the earlier trips (and there were some).
   */
  unhealthy(now: number): boolean {
    const since = this.#healthySince;
    this.#healthySince = undefined;
    if (since === undefined || now - since < this.healthyResetMs || this.#trips === 0) return false;
    this.#trips = 0;
    return true;
  }
}
