import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/common/logger.js';
import type { ChildSpec } from '../../../src/workerpool/ipc.js';
import { DEFAULT_POLICY, GroupSupervisor } from '../../../src/workerpool/supervisor/group.js';
import { TaskLedger } from '../../../src/workerpool/supervisor/ledger.js';
import type { RestartCause } from '../../../src/workerpool/supervisor/restart-cause.js';
import { type StatsMessage, TaskStats } from '../../../src/workerpool/task-stats.js';
import { FakeChild, FakeClock } from './fake-supervision.js';

/** A group of fake children whose metrics hooks record what they hear. */
function setup(workers: number) {
  const clock = new FakeClock();
  const children: FakeChild[] = [];
  const restarts: RestartCause[] = [];
  const stats: StatsMessage[] = [];
  const spec = { group: { name: 'g', workers, prefetch: 1 } } as unknown as ChildSpec;
  const group = new GroupSupervisor(
    spec,
    10_000,
    createLogger('tq-test', 'fatal', () => {}),
    {
      policy: DEFAULT_POLICY,
      ledger: new TaskLedger(() => clock.now()),
      makeChild: () => {
        const child = new FakeChild();
        children.push(child);
        return child;
      },
      clock,
      onStats: (m) => stats.push(m),
      onRestart: (cause) => restarts.push(cause),
    },
  );
  return { group, children, restarts, stats, clock };
}

describe("GroupSupervisor's hooks for the pool's metrics", () => {
  it('names the cause of each unasked exit, and none for a planned one', async () => {
    const { group, children, restarts } = setup(2);
    group.start();
    for (const child of children) child.ready();
    children[0]!.exit({ code: 7 }); // died while running
    children[1]!.exit({ code: null, signal: 'SIGKILL' }); // killed from outside
    expect(restarts).toEqual(['crash', 'killed']);
    const stopping = group.stop(0);
    for (const child of children.filter((c) => !c.exited)) child.exit({ code: 0 });
    await stopping;
    expect(restarts).toEqual(['crash', 'killed']);
  });

  it('hands on a child’s stats message', () => {
    const { group, children, stats } = setup(1);
    group.start();
    children[0]!.ready();
    const counted = new TaskStats();
    counted.ended('succeeded');
    const message = counted.take()!;
    children[0]!.send(message);
    expect(stats).toEqual([message]);
  });
});
