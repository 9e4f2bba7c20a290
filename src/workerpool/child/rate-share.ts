/**
 * The arithmetic of one child's share of a type's `rate_limit` (docs/rate-limits.md): no timers,
 * no broker, a clock passed in, so that it can be tested to the token.
 *
 * Every child consuming a type's token queue mints `rate / N` tokens a second, N being the token
 * queue's consumers as the broker last counted them: the shares add up to the rate whatever the
 * number of pools and hosts, with no leader. Minting follows the clock, not the timer: tokens due
 * are `share × elapsed` plus the fraction left over from the last tick (the carry), so a timer
 * that fires late mints what it owes, and a share of 0.3 a second mints its token every 3.3 s.
 */

/** How often the consumer count is asked again (each child, jittered by RECHECK_JITTER). */
export const RECHECK_MS = 1000;
/** ± this fraction of RECHECK_MS: children that started together do not all ask at once. */
export const RECHECK_JITTER = 0.2;
/** The shortest tick: at high shares, several tokens a tick rather than a timer a token. */
export const MIN_TICK_MS = 10;
/** The longest tick: a low share still keeps its carry fresh. */
export const MAX_TICK_MS = 100;
/**
 * Time owed beyond this is forgiven: a child whose event loop stood still for seconds (a GC
 * pause, a plugin blocking it) mints one second's worth, not a flood.
 */
export const MAX_CATCH_UP_MS = 1000;
/**
 * A token lives at least this long: what the queue may bank while the children cannot take
 * tokens as fast as they come (their slots full, or their gets slower than the rate for a
 * moment) is a quarter of a second of the rate; a bank is what lets a type start faster than its
 * cap once they catch up. Longer for low rates: a token must outlive twice the gap to the next
 * one, or a slow type whose children are busy when its token comes would lose it.
 */
export const TOKEN_BANK_MS = 250;

/**
 * A child whose gets found `worker_<type>` empty for this long stops minting: an idle type would
 * otherwise cost the broker and its children a token and an empty get for every token of its
 * rate, for ever.
 */
export const IDLE_AFTER_MS = 1000;
/** How often a child that stopped minting looks at `worker_<type>` for tasks (ready messages). */
export const IDLE_RECHECK_MS = 250;

/** The `expiration` (ms) of the tokens of a type capped at `rate` tasks a second. */
export function tokenLifetimeMs(rate: number): number {
  return Math.max(TOKEN_BANK_MS, Math.ceil(2000 / rate));
}

/** The next recheck's delay for a random number `unit` in [0, 1). */
export function recheckDelayMs(unit: number): number {
  return Math.round(RECHECK_MS * (1 - RECHECK_JITTER + 2 * RECHECK_JITTER * unit));
}

export class TokenShare {
  readonly rate: number;
  #consumers = 1;
  #carry = 0;
  #last: number;
  /** When a get last found a task, or minting resumed. */
  #busy: number;
  #idle = false;

  /** `rate`: the type's tasks a second; `now`: ms on any monotonic clock. */
  constructor(rate: number, now: number) {
    if (!(rate > 0) || !Number.isFinite(rate))
      throw new RangeError(`rate_limit must be a number above 0, got ${rate}`);
    this.rate = rate;
    this.#last = now;
    this.#busy = now;
  }

  /** Tokens a second this child mints now. */
  get share(): number {
    return this.rate / this.#consumers;
  }

  get consumers(): number {
    return this.#consumers;
  }

  /** The fraction of a token owed and not minted yet (and whole ones, between two `take`s). */
  get carry(): number {
    return this.#carry;
  }

  /** How often to tick: about one token a tick, within [MIN_TICK_MS, MAX_TICK_MS]. */
  get tickMs(): number {
    return Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, Math.floor(1000 / this.share)));
  }

  /**
   * The broker counted `count` consumers at `now`. What was owed at the old share is kept in the
   * carry first, so that a change takes effect from its moment on. A count of 0 (this child's
   * own consumer not counted yet, or cancelled a moment ago) is taken as 1.
   */
  setConsumers(count: number, now: number): void {
    this.#accrue(now);
    this.#consumers = Math.max(1, Math.floor(count));
  }

  /** Not minting: the type's tasks ran out (IDLE_AFTER_MS), until `resume`. */
  get idle(): boolean {
    return this.#idle;
  }

  /** A get found a task at `now`. */
  found(now: number): void {
    this.#busy = Math.max(this.#busy, now);
  }

  /** A get found the queue empty at `now`: true when this makes the child stop minting. */
  empty(now: number): boolean {
    if (this.#idle || now - this.#busy < IDLE_AFTER_MS) return false;
    this.#idle = true;
    this.reset(now);
    return true;
  }

  /** Tasks wait again: mint from `now` on, owing nothing for the idle time. */
  resume(now: number): void {
    this.#idle = false;
    this.#busy = now;
    this.reset(now);
  }

  /** The whole tokens to mint at `now` (none while idle); the fraction stays in the carry. */
  take(now: number): number {
    if (this.#idle) {
      this.reset(now);
      return 0;
    }
    this.#accrue(now);
    const whole = Math.floor(this.#carry);
    this.#carry -= whole;
    return whole;
  }

  /** Forget what is owed (minting paused: retiring, or no channel to mint on). */
  reset(now: number): void {
    this.#carry = 0;
    this.#last = now;
  }

  #accrue(now: number): void {
    const elapsed = Math.min(MAX_CATCH_UP_MS, Math.max(0, now - this.#last));
    this.#last = Math.max(this.#last, now);
    this.#carry += (this.share * elapsed) / 1000;
  }
}
