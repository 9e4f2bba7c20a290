import type { GroupConfig } from '../common/config/types.js';
import type { RestartCause } from './supervisor/restart-cause.js';
import {
  QUEUED_SECONDS_BUCKETS,
  RUN_SECONDS_BUCKETS,
  type StatsMessage,
  TASK_OUTCOMES,
} from './task-stats.js';

/** Counts per bucket (not cumulative) and their sum, as the children send them. */
export interface BucketTotals {
  counts: number[];
  sum: number;
}

/** Everything the children of one group told, since the pool started. */
export interface GroupTotals {
  group: string;
  /** The group's type, from the config: never what a child says. */
  type: string;
  outcomes: number[];
  run: BucketTotals;
  queued: BucketTotals;
  restarts: Map<RestartCause, number>;
}

const zeros = (length: number) => new Array<number>(length).fill(0);

/**
 * The pool's side of the children's counts: each checked `stats` message (task-stats.ts) added
 * to its group's totals, and each restart counted by cause. Kept by group name across reloads (a
 * counter must not go back); a group removed keeps its last totals. Read at scrape time
 * (pool-metrics.ts): nothing here runs per task.
 */
export class PoolStats {
  #groups = new Map<string, GroupTotals>();

  /** Adds a child's message to its group's totals. */
  stats(group: GroupConfig, message: StatsMessage): void {
    const totals = this.#totals(group);
    addInto(totals.outcomes, message.outcomes);
    addInto(totals.run.counts, message.run);
    totals.run.sum += message.runSum;
    addInto(totals.queued.counts, message.queued);
    totals.queued.sum += message.queuedSum;
  }

  restart(group: GroupConfig, cause: RestartCause): void {
    const { restarts } = this.#totals(group);
    restarts.set(cause, (restarts.get(cause) ?? 0) + 1);
  }

  groups(): Iterable<GroupTotals> {
    return this.#groups.values();
  }

  #totals(group: GroupConfig): GroupTotals {
    let totals = this.#groups.get(group.name);
    if (!totals) {
      totals = {
        group: group.name,
        type: group.type,
        outcomes: zeros(TASK_OUTCOMES.length),
        run: { counts: zeros(RUN_SECONDS_BUCKETS.length + 1), sum: 0 },
        queued: { counts: zeros(QUEUED_SECONDS_BUCKETS.length + 1), sum: 0 },
        restarts: new Map(),
      };
      this.#groups.set(group.name, totals);
    }
    return totals;
  }
}

/** Same lengths: checked by isStatsMessage before a message gets here. */
function addInto(into: number[], delta: readonly number[]): void {
  for (let i = 0; i < into.length; i++) into[i]! += delta[i] ?? 0;
}
