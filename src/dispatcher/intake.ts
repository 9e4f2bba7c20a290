/**
 * The dispatcher's byte budget: how many bytes of deliveries it holds (received, not yet
 * settled), and whether it takes more. Past the budget it stops taking: a delivery that would
 * cross it is handed back (and the consumer cancelled by the caller) until enough has drained
 * for the first one handed back to fit, so the bytes held never exceed the budget, except by a
 * single delivery taken when nothing else is held (a body larger than the whole budget still
 * passes, alone).
 *
 * Two additions and two comparisons a task: nothing else on the normal path.
 */
export class Intake {
  readonly #budget: number;
  #bytes = 0;
  #peak = 0;
  #paused = false;
  /** The size of the first delivery handed back since the pause: what must fit to resume. */
  #waitingFor = 0;
  readonly #onChange: (paused: boolean) => void;

  /** `onChange` is told when taking stops (true) and when it may start again (false). */
  constructor(budget: number, onChange: (paused: boolean) => void) {
    this.#budget = budget;
    this.#onChange = onChange;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The most bytes ever held at once. */
  get peak(): number {
    return this.#peak;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get budget(): number {
    return this.#budget;
  }

  /** True when a delivery of `size` bytes is taken (and counted); false: hand it back. */
  admit(size: number): boolean {
    if (this.#paused) return false;
    if (this.#bytes > 0 && this.#bytes + size > this.#budget) {
      this.#paused = true;
      this.#waitingFor = size;
      this.#onChange(true);
      return false;
    }
    this.#bytes += size;
    if (this.#bytes > this.#peak) this.#peak = this.#bytes;
    return true;
  }

  /** A delivery taken with `admit` was settled (acked, parked, handed back or lost with its channel). */
  release(size: number): void {
    this.#bytes -= size;
    if (this.#paused && (this.#bytes === 0 || this.#bytes + this.#waitingFor <= this.#budget)) {
      this.#paused = false;
      this.#onChange(false);
    }
  }
}
