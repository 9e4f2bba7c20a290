import type { Verdict } from '../ipc.js';

/** How long the pool remembers what happened to a task: redeliveries come within seconds. */
const KEEP_MS = 15 * 60_000;
/** Bounded memory even under a storm of crashes. */
const MAX_ENTRIES = 100_000;
/**
 * A task may come back to a second child before the pool has even seen the first one exit (the
 * broker notices the closed socket first): the question then waits this long for the answer.
 */
const ASK_WAIT_MS = 3_000;

/**
 * A child as the ledger sees it: the tasks it holds now, key → since when (ms), and those it
 * holds without having started them (`concurrency` below `prefetch`).
 */
export interface TaskHolder {
  heldTasks(): { held: Map<string, number>; waiting?: Map<string, number> };
}

/**
 * The pool's memory of why tasks went back to the broker, shared by every group: a child that
 * gets a redelivered task asks here whether its last holder crashed, was killed for a timeout,
 * or let go of it through no fault of the task. What each child holds is read from the child
 * (its held-tasks file) when it matters, not kept here.
 */
export class TaskLedger {
  #verdicts = new Map<string, { verdict: Verdict; at: number }>();
  #holders = new Set<TaskHolder>();
  #waiting = new Map<string, Set<() => void>>();
  #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A child that may hold tasks from now on. */
  attach(holder: TaskHolder): void {
    this.#holders.add(holder);
  }

  /** The tasks `holder` holds, with the time it took each. */
  heldBy(holder: TaskHolder): Map<string, number> {
    return holder.heldTasks().held;
  }

  /**
   * `holder` is gone: what happened to each task it still held is `verdictFor(key)`; a task it
   * held without having started it was `notStarted`'s (a loss: it did nothing there).
   */
  holderGone(
    holder: TaskHolder,
    verdictFor: (key: string) => Verdict,
    notStarted?: Verdict & { kind: 'lost' },
  ): void {
    const { held, waiting } = holder.heldTasks();
    this.#holders.delete(holder);
    for (const key of held.keys()) this.record(key, verdictFor(key));
    if (notStarted) for (const key of waiting?.keys() ?? []) this.record(key, notStarted);
  }

  record(key: string, verdict: Verdict): void {
    // Re-inserted at the end: the Map's order stays oldest first, for the eviction below.
    this.#verdicts.delete(key);
    this.#verdicts.set(key, { verdict, at: this.#now() });
    if (this.#verdicts.size > MAX_ENTRIES) {
      const oldest = this.#verdicts.keys().next().value;
      if (oldest !== undefined) this.#verdicts.delete(oldest);
    }
    for (const wake of this.#waiting.get(key) ?? []) wake();
  }

  /**
   * What happened to `key` before `asker` got it again. If another holder still has it on
   * record, its exit may not have been seen yet: wait a little for it.
   */
  async ask(asker: unknown, key: string, waitMs = ASK_WAIT_MS): Promise<Verdict | undefined> {
    const known = this.#take(key);
    if (known) return known;
    const holdsIt = (h: TaskHolder) => {
      if (h === asker) return false;
      const { held, waiting } = h.heldTasks();
      return held.has(key) || waiting?.has(key) === true;
    };
    if (![...this.#holders].some(holdsIt)) return undefined;
    await new Promise<void>((resolve) => {
      const waiters = this.#waiting.get(key) ?? new Set<() => void>();
      this.#waiting.set(key, waiters);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.#waiting.delete(key);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      waiters.add(done);
    });
    return this.#take(key);
  }

  #take(key: string): Verdict | undefined {
    const entry = this.#verdicts.get(key);
    if (!entry) return undefined;
    // A loss is kept (until a newer verdict replaces it): after a lost connection the same task
    // may come back twice, the dispatcher having forwarded it twice. A death is told once.
    if (entry.verdict.kind !== 'lost') this.#verdicts.delete(key);
    return this.#now() - entry.at <= KEEP_MS ? entry.verdict : undefined;
  }
}
