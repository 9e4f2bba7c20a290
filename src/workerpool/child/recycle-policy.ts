const MiB = 1024 * 1024;
/** Share of max_memory_per_child at which a successor is started. */
const SUCCESSOR_AT = 0.9;
/** What `taken` says for nearly every task: one shared answer, not an object per delivery. */
const KEEP_TAKING = Object.freeze({ askSuccessor: undefined, last: false });

/**
 * When a child should be replaced between tasks (SPEC §2 `max_tasks_per_child`,
 * `max_memory_per_child`). It asks for a successor one task before the task limit, so the
 * successor is starting while the last task runs and the group's capacity does not dip.
 */
export class RecyclePolicy {
  readonly maxTasks: number | undefined;
  readonly maxMemoryMiB: number | undefined;
  #taken = 0;
  #asked = false;

  constructor(maxTasks: number | undefined, maxMemoryMiB: number | undefined) {
    this.maxTasks = maxTasks;
    this.maxMemoryMiB = maxMemoryMiB;
  }

  /** Call on each delivery. `askSuccessor` says why to ask now; `last` means take no more. */
  taken(): Readonly<{ askSuccessor: string | undefined; last: boolean }> {
    this.#taken++;
    if (this.maxTasks === undefined) return KEEP_TAKING;
    const last = this.#taken >= this.maxTasks;
    const ask =
      this.#taken >= this.maxTasks - 1
        ? this.#ask(`max_tasks_per_child ${this.maxTasks} reached`)
        : undefined;
    return { askSuccessor: ask, last };
  }

  /**
   * Call after each task with the child's RSS. From 90 % of max_memory_per_child on it asks for a
   * successor (which starts while this child still serves); above the limit this child must take
   * no more tasks (`stopTaking` says why), since each one may grow it further.
   */
  finished(rssBytes: number): { askSuccessor: string | undefined; stopTaking: string | undefined } {
    if (this.maxMemoryMiB === undefined || rssBytes < this.maxMemoryMiB * MiB * SUCCESSOR_AT)
      return { askSuccessor: undefined, stopTaking: undefined };
    const rss = `RSS ${Math.round(rssBytes / MiB)} MiB`;
    const over = rssBytes > this.maxMemoryMiB * MiB;
    return {
      askSuccessor: this.#ask(
        `max_memory_per_child: ${rss} ${over ? '>' : 'near'} ${this.maxMemoryMiB} MiB`,
      ),
      stopTaking: over ? `max_memory_per_child: ${rss} > ${this.maxMemoryMiB} MiB` : undefined,
    };
  }

  #ask(reason: string): string | undefined {
    if (this.#asked) return undefined;
    this.#asked = true;
    return reason;
  }
}
