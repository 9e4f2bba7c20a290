/**
 * The task ids cancelled within the stream's retention, each with when it was cancelled. What
 * the stream no longer holds is forgotten here too, so that a reader started now and one that
 * has run for weeks agree on what is cancelled.
 */
export class CancelSet {
  readonly #maxAgeMs: number;
  /** Insertion order is (nearly) time order: the stream is read in order. */
  #at = new Map<string, number>();
  #added = 0;

  constructor(maxAgeMs: number) {
    this.#maxAgeMs = maxAgeMs;
  }

  get size(): number {
    return this.#at.size;
  }

  /**
   * Records `taskId` cancelled at `atMs`; false when it is older than the retention (nothing
   * recorded) or was known already. Prunes now and then, not on every add.
   */
  add(taskId: string, atMs: number, nowMs = Date.now()): boolean {
    if (nowMs - atMs > this.#maxAgeMs) return false;
    if (this.#at.has(taskId)) return false;
    this.#at.set(taskId, atMs);
    if (++this.#added % 1024 === 0) this.prune(nowMs);
    return true;
  }

  has(taskId: string, nowMs = Date.now()): boolean {
    const at = this.#at.get(taskId);
    if (at === undefined) return false;
    if (nowMs - at <= this.#maxAgeMs) return true;
    this.#at.delete(taskId);
    return false;
  }

  /** Forgets what is past the retention. */
  prune(nowMs = Date.now()): void {
    for (const [taskId, at] of this.#at) if (nowMs - at > this.#maxAgeMs) this.#at.delete(taskId);
  }
}
