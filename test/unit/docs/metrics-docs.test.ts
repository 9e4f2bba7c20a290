import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { GroupConfig } from '../../../src/common/config/types.js';
import { DispatcherCounts } from '../../../src/dispatcher/counts.js';
import {
  type DispatcherMetricsSource,
  dispatcherRegistry,
} from '../../../src/dispatcher/dispatcher-metrics.js';
import { poolRegistry } from '../../../src/workerpool/pool-metrics.js';
import { PoolStats } from '../../../src/workerpool/stats-totals.js';
import { TaskStats } from '../../../src/workerpool/task-stats.js';
import { parsePromText } from '../../support/prom-text.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');

/** Series the broker's rabbitmq_prometheus plugin serves, not ours (docs/metrics.md). */
const EXTERNAL = ['rabbitmq_detailed_queue_consumers', 'up'];

/** Every sample name both daemons expose, with one group and one of everything counted. */
async function exposedNames(): Promise<{ samples: Set<string>; families: string[] }> {
  const counts = new DispatcherCounts(undefined);
  counts.forward('echo');
  const dispatcher = dispatcherRegistry({
    counts,
    bytesInHand: 0,
    connection: new EventEmitter(),
  } as unknown as DispatcherMetricsSource);
  const stats = new PoolStats();
  const group = { name: 'echo', type: 'echo' } as GroupConfig;
  const counted = new TaskStats();
  counted.ended('succeeded');
  counted.ran(0.1);
  counted.queued(2);
  stats.stats(group, counted.take()!);
  stats.restart(group, 'crash');
  const pool = poolRegistry(
    {
      supervisors: () => [
        {
          name: 'echo',
          spec: { group: { type: 'echo' } },
          wanted: 1,
          failed: false,
          children: () => [{ pid: process.pid, state: 'running' as const }],
        },
      ],
    },
    stats,
  );
  const samples = new Set<string>();
  const families: string[] = [];
  for (const registry of [dispatcher, pool]) {
    for (const sample of parsePromText(await registry.metrics())) samples.add(sample.name);
    families.push(...(await registry.getMetricsAsJSON()).map((m) => m.name));
  }
  return { samples, families };
}

/** The metric names a PromQL expression uses: ours, the process ones and the broker's. */
const namesIn = (expr: string) =>
  [
    ...expr.matchAll(/\b((?:taskqueue|process|nodejs|rabbitmq)_[a-z_]+|up)\b(?=\s*[{[(]|\s|$)/g),
  ].map((m) => m[1]!);

describe('the dashboard, the alert rules and metrics.md name metrics that exist', () => {
  it('every metric of the Grafana dashboard is exposed by a daemon', async () => {
    const { samples } = await exposedNames();
    const dashboard = JSON.parse(read('docs/grafana/taskqueue.json')) as {
      panels: { targets: { expr: string }[] }[];
      templating: { list: { query?: unknown }[] };
    };
    const exprs = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
      ...dashboard.templating.list.map((v) => v.query).filter((q) => typeof q === 'string'),
    ] as string[];
    const used = exprs.flatMap(namesIn);
    expect(used).toContain('taskqueue_task_run_seconds_bucket');
    expect(used.filter((name) => !samples.has(name) && !EXTERNAL.includes(name))).toEqual([]);
  });

  it('the alert rules parse, and every metric they use is exposed (or the broker’s)', async () => {
    const { samples } = await exposedNames();
    const rules = parse(read('docs/prometheus/alerts.yml')) as {
      groups: { name: string; rules: { alert: string; expr: string; labels: object }[] }[];
    };
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'TaskqueueGroupFailed',
        'TaskqueueTasksParked',
        'TaskqueueWorkerQueueWithoutConsumer',
      ]),
    );
    for (const rule of all) expect(rule.expr, rule.alert).toEqual(expect.any(String));
    const used = all.flatMap((r) => namesIn(r.expr));
    expect(used).toContain('rabbitmq_detailed_queue_consumers');
    expect(used.filter((name) => !samples.has(name) && !EXTERNAL.includes(name))).toEqual([]);
  });

  it('docs/metrics.md names every taskqueue_ metric of both registries', async () => {
    const { families } = await exposedNames();
    const doc = read('docs/metrics.md');
    const ours = families.filter((name) => name.startsWith('taskqueue_'));
    expect(ours.length).toBeGreaterThan(10);
    expect(ours.filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
  });
});
