/**
 * One answer shared by every request of a short window: the first request of the window does
 * the work, the others in flight or arriving within `reuseMs` after it settled get the same
 * answer. A failure is not kept (the next request tries again). For GET /v1/queues, which every
 * open dashboard asks every 5 s and which opens a broker connection without the management API.
 */
export class SharedAnswer<T> {
  readonly #reuseMs: number;
  readonly #now: () => number;
  #answer: Promise<T> | undefined;
  /** When the answer settled (ms), undefined while in flight. */
  #settledAt: number | undefined;

  constructor(reuseMs: number, now: () => number = Date.now) {
    this.#reuseMs = reuseMs;
    this.#now = now;
  }

  get(work: () => Promise<T>): Promise<T> {
    const fresh =
      this.#answer !== undefined &&
      (this.#settledAt === undefined || this.#now() - this.#settledAt < this.#reuseMs);
    if (fresh) return this.#answer!;
    const answer = work();
    this.#answer = answer;
    this.#settledAt = undefined;
    answer.then(
      () => {
        if (this.#answer === answer) this.#settledAt = this.#now();
      },
      () => {
        if (this.#answer === answer) this.#answer = undefined;
      },
    );
    return answer;
  }
}
