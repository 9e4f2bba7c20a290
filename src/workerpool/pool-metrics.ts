import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { BucketHistogram } from '../common/metrics/bucket-histogram.js';
import { EVENT_LOOP_PRECISION_MS, registerBuildInfo } from '../common/metrics/build-info.js';
import type { PoolStats } from './stats-totals.js';
import { readRss } from './status/rss.js';
import type { ChildView } from './supervisor/group.js';
import { RESTART_CAUSES } from './supervisor/restart-cause.js';
import { QUEUED_SECONDS_BUCKETS, RUN_SECONDS_BUCKETS, TASK_OUTCOMES } from './task-stats.js';

/** A group as the metrics read it at scrape time (GroupSupervisor has all of it). */
export interface GroupFacts {
  readonly name: string;
  readonly spec: { group: { type: string } };
  readonly wanted: number;
  readonly failed: boolean;
  children(): ChildView[];
}

/** What the pool's registry reads from: its groups now, and the totals of what children told. */
export interface PoolMetricsSource {
  supervisors(): Iterable<GroupFacts>;
}

/**
 * The pool's metrics (docs/metrics.md), in a registry of its own: every value is read when
 * scraped, from the groups and from `stats` (what the children told), so a scrape costs the pool
 * a walk over its groups and one /proc read per child, and a task costs it nothing.
 */
export function poolRegistry(pool: PoolMetricsSource, stats: PoolStats): Registry {
  const registry = new Registry();
  const registers = [registry];
  registerBuildInfo(registry);
  collectDefaultMetrics({
    register: registry,
    eventLoopMonitoringPrecision: EVENT_LOOP_PRECISION_MS,
  });
  const groupLabels = ['group', 'type'] as const;
  const groups = () => [...pool.supervisors()];
  const labelsOf = (g: GroupFacts) => ({ group: g.name, type: g.spec.group.type });

  new Counter({
    name: 'taskqueue_tasks_finished_total',
    help: 'Tasks the children of a group settled, by how they ended (docs/metrics.md).',
    labelNames: [...groupLabels, 'outcome'] as const,
    registers,
    collect() {
      this.reset();
      for (const t of stats.groups())
        for (const [i, outcome] of TASK_OUTCOMES.entries())
          this.inc({ group: t.group, type: t.type, outcome }, t.outcomes[i] ?? 0);
    },
  });
  new BucketHistogram({
    name: 'taskqueue_task_run_seconds',
    help: "How long the plugin's handleTask ran, per attempt.",
    bounds: RUN_SECONDS_BUCKETS,
    registers,
    read: () =>
      [...stats.groups()].map((t) => ({
        labels: { group: t.group, type: t.type },
        counts: t.run.counts,
        sum: t.run.sum,
      })),
  });
  new BucketHistogram({
    name: 'taskqueue_task_queued_seconds',
    help: "From the task's AMQP timestamp to when a child took it (first attempts only; whole seconds).",
    bounds: QUEUED_SECONDS_BUCKETS,
    registers,
    read: () =>
      [...stats.groups()].map((t) => ({
        labels: { group: t.group, type: t.type },
        counts: t.queued.counts,
        sum: t.queued.sum,
      })),
  });
  new Counter({
    name: 'taskqueue_child_restarts_total',
    help: 'Children that ended unasked and were replaced, by cause (docs/metrics.md).',
    labelNames: [...groupLabels, 'cause'] as const,
    registers,
    collect() {
      this.reset();
      for (const t of stats.groups())
        for (const cause of RESTART_CAUSES)
          this.inc({ group: t.group, type: t.type, cause }, t.restarts.get(cause) ?? 0);
    },
  });
  new Gauge({
    name: 'taskqueue_group_children_wanted',
    help: 'Children the config asks for in the group.',
    labelNames: groupLabels,
    registers,
    collect() {
      this.reset();
      for (const g of groups()) this.set(labelsOf(g), g.wanted);
    },
  });
  new Gauge({
    name: 'taskqueue_group_children_running',
    help: 'Children of the group that are ready and consuming.',
    labelNames: groupLabels,
    registers,
    collect() {
      this.reset();
      for (const g of groups())
        this.set(labelsOf(g), g.children().filter((c) => c.state === 'running').length);
    },
  });
  new Gauge({
    name: 'taskqueue_group_failed',
    help: '1 while the group is failed (paused after too many restarts), else 0.',
    labelNames: groupLabels,
    registers,
    collect() {
      this.reset();
      for (const g of groups()) this.set(labelsOf(g), g.failed ? 1 : 0);
    },
  });
  new Gauge({
    name: 'taskqueue_group_resident_memory_bytes',
    help: "Resident memory (RSS) of the group's children, summed.",
    labelNames: groupLabels,
    registers,
    collect() {
      this.reset();
      for (const g of groups()) {
        let bytes = 0;
        for (const child of g.children())
          if (child.pid !== undefined) bytes += readRss(child.pid) ?? 0;
        this.set(labelsOf(g), bytes);
      }
    },
  });
  return registry;
}
