const MiB = 1024 * 1024;

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
  taken(): { askSuccessor: string | undefined; last: boolean } {
    this.#taken++;
    if (this.maxTasks === undefined) return { askSuccessor: undefined, last: false };
    const last = this.#taken >= this.maxTasks;
    const ask =
      this.#taken >= this.maxTasks - 1
        ? this.#ask(`max_tasks_per_child ${this.maxTasks} reached`)
        : undefined;
    return { askSuccessor: ask, last };
  }

  /** Call after each task with the child's RSS; returns why to ask for a successor, if so. */
  finished(rssBytes: number): string | undefined {
    if (this.maxMemoryMiB === undefined || rssBytes <= this.maxMemoryMiB * MiB) return undefined;
    return this.#ask(
      `max_memory_per_child: RSS ${Math.round(rssBytes / MiB)} MiB > ${this.maxMemoryMiB} MiB`,
    );
  }

  #ask(reason: string): string | undefined {
    if (this.#asked) return undefined;
    this.#asked = true;
    return reason;
  }
}
