import { describe, expect, it } from 'vitest';
import { backoffDelayBound } from '../../../src/common/amqp/backoff.js';
import { createLogger } from '../../../src/common/logger.js';
import type { ChildSpec } from '../../../src/workerpool/ipc.js';
import {
  DEFAULT_POLICY,
  type GroupPolicy,
  GroupSupervisor,
} from '../../../src/workerpool/supervisor/group.js';
import { TaskLedger } from '../../../src/workerpool/supervisor/ledger.js';
import { TIMEOUT_GRACE_MS, WATCHDOG_MARGIN_MS } from '../../../src/workerpool/timeouts.js';
import { FakeChild, FakeClock } from './fake-supervision.js';

const DRAIN_MS = 10_000;

/** A group of fake children on a fake clock, with its log lines parsed. */
function setup(workers: number, policy: Partial<GroupPolicy> = {}, timeoutS?: number) {
  const clock = new FakeClock();
  const children: FakeChild[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('tq-test', 'debug', (line) => lines.push(JSON.parse(line)));
  const spec = {
    group: { name: 'g', workers, prefetch: 1, timeout: timeoutS },
  } as unknown as ChildSpec;
  const group = new GroupSupervisor(spec, DRAIN_MS, log, {
    policy: { ...DEFAULT_POLICY, ...policy },
    ledger: new TaskLedger(() => clock.now()),
    makeChild: () => {
      const child = new FakeChild();
      children.push(child);
      return child;
    },
    clock,
  });
  const live = () => children.filter((c) => !c.exited);
  const msgs = (prefix: string) => lines.filter((l) => String(l.msg).startsWith(prefix));
  const coded = (code: string) => lines.filter((l) => l.code === code);
  /** Fires the one pending restart (or pause) timer; returns its delay. */
  const fireNext = () => {
    const [delay] = clock.pending();
    if (delay === undefined) throw new Error('no timer pending');
    clock.advance(delay);
    return delay;
  };
  return { group, clock, children, lines, live, msgs, coded, fireNext };
}

/** The newest child fails to start (its plugin's setup throws: exit code 1 while starting). */
const failNewest = (children: FakeChild[]) => children.at(-1)!.exit({ code: 1 });

/** The newest child still starting fails to start. */
const failStarting = (children: FakeChild[]) =>
  children.findLast((c) => !c.isReady && !c.exited)!.exit({ code: 1 });

describe('GroupSupervisor with fake children', () => {
  it('starts the wanted children, each from the initial state, and settles once all run', async () => {
    const { group, children, lines } = setup(2);
    let settled = false;
    void group.settled.then(() => {
      settled = true;
    });
    group.start();
    expect(group.state).toBe('serving');
    expect(children.map((c) => c.started)).toEqual([true, true]);
    const starts = lines.filter((l) => l.msg === 'child state' && l.to === 'starting');
    expect(starts.map((l) => [l.childPid, l.from])).toEqual(children.map((c) => [c.pid, 'none']));
    children[0]!.ready();
    await Promise.resolve();
    expect(settled).toBe(false);
    children[1]!.ready();
    await Promise.resolve();
    expect(settled).toBe(true);
    expect(group.children().map((c) => c.state)).toEqual(['running', 'running']);
  });

  it('restarts a child that fails to start after a delay that doubles, then gives up', async () => {
    const { group, clock, children, coded } = setup(1);
    let settled = false;
    void group.settled.then(() => {
      settled = true;
    });
    group.start();
    const options = { baseMs: DEFAULT_POLICY.restartBaseMs, maxMs: DEFAULT_POLICY.restartMaxMs };
    for (let failure = 1; failure <= DEFAULT_POLICY.maxRestarts; failure++) {
      failNewest(children);
      expect(group.state).toBe('delaying');
      const [delay] = clock.pending();
      // Jittered within [50 %, 100 %] of base × 2^(failure − 1).
      const bound = backoffDelayBound(failure - 1, options);
      expect(delay).toBeGreaterThanOrEqual(bound / 2);
      expect(delay).toBeLessThanOrEqual(bound);
      // Nothing is started before the delay is over.
      clock.advance(delay! - 1);
      expect(children).toHaveLength(failure);
      clock.advance(1);
      expect(children).toHaveLength(failure + 1);
      expect(group.state).toBe('serving');
    }
    expect(coded('TQ_ERR_GROUP_FAILED')).toEqual([]);
    failNewest(children); // the sixth failure: more than maxRestarts within the period
    expect(group.state).toBe('failed');
    expect(group.failed).toBe(true);
    await Promise.resolve();
    expect(settled).toBe(true); // failed counts as settled: the pool may say it is ready
    const [failed] = coded('TQ_ERR_GROUP_FAILED');
    expect(failed).toMatchObject({ level: 50, retryInS: 5, trip: 1, onlyFromOutside: false });
    // Nothing more happens during the pause.
    expect(clock.pending()).toEqual([DEFAULT_POLICY.failedPauseMs]);
    clock.advance(DEFAULT_POLICY.failedPauseMs - 1);
    expect(children).toHaveLength(6);
  });

  it('pauses twice as long on each trip in a row, and short again after a healthy run', () => {
    const { group, clock, children, msgs, fireNext, coded } = setup(1);
    group.start();
    /** Children fail to start until the group fails; how many did. */
    const trip = () => {
      let failures = 1;
      failNewest(children);
      while (group.state === 'delaying') {
        fireNext();
        failNewest(children);
        failures++;
      }
      expect(group.state).toBe('failed');
      return failures;
    };
    expect(trip()).toBe(6);
    expect(fireNext()).toBe(5_000);
    expect(group.state).toBe('serving');
    expect(msgs('failed group: trying again')).toHaveLength(1);
    // Tried again with an empty restart count: six more failures before the next pause.
    expect(trip()).toBe(6);
    expect(fireNext()).toBe(10_000);
    expect(trip()).toBe(6);
    expect(fireNext()).toBe(20_000);
    expect(coded('TQ_ERR_GROUP_FAILED').map((l) => l.retryInS)).toEqual([5, 10, 20]);
    // Healthy (all its children running) for healthyResetMs: the next pause is short again.
    children.at(-1)!.ready();
    clock.advance(DEFAULT_POLICY.healthyResetMs);
    children.at(-1)!.exit({ code: 1 }); // a crash while running, no task done: counted
    expect(msgs('group ran healthy')).toHaveLength(1);
    fireNext();
    trip();
    expect(coded('TQ_ERR_GROUP_FAILED').map((l) => l.retryInS)).toEqual([5, 10, 20, 5]);
  });

  it('only pauses, as a warning, a group whose children were all killed from outside', () => {
    const { group, children, fireNext, coded } = setup(1);
    group.start();
    for (let n = 0; n < 6; n++) {
      children.at(-1)!.exit({ code: null, signal: 'SIGKILL' });
      if (n < 5) fireNext();
    }
    expect(group.state).toBe('failed');
    expect(coded('TQ_ERR_GROUP_FAILED')).toEqual([]);
    expect(coded('TQ_ERR_GROUP_PAUSED')).toMatchObject([{ level: 40, onlyFromOutside: true }]);
    // A kill the pool sent itself (its watchdog, a breach) is not from outside.
    const second = setup(1);
    second.group.start();
    for (let n = 0; n < 6; n++) {
      const child = second.children.at(-1)!;
      child.kill('stuck');
      child.exit({ code: null, signal: 'SIGKILL' });
      if (n < 5) second.fireNext();
    }
    expect(second.coded('TQ_ERR_GROUP_FAILED')).toHaveLength(1);
  });

  it('clears the restart count whenever any child of the group settled a task since the last exit', () => {
    const { group, children, fireNext, coded } = setup(2);
    group.start();
    const worker = children[0]!;
    worker.ready();
    // Eight failures of the other child, more than maxRestarts, each after the worker
    // finished one more task: never failed.
    for (let n = 0; n < 8; n++) {
      worker.settled++;
      failNewest(children);
      fireNext();
    }
    expect(group.state).toBe('serving');
    expect(coded('TQ_ERR_GROUP_FAILED')).toEqual([]);
    // Without progress between them, the sixth failure fails the group.
    for (let n = 0; n < 6 && group.state !== 'failed'; n++) {
      failNewest(children);
      if (group.state === 'delaying') fireNext();
    }
    expect(coded('TQ_ERR_GROUP_FAILED')).toHaveLength(1);
  });

  it('does not count the tasks of a child that is gone as new progress when it ends', () => {
    const { group, children, msgs, fireNext, coded } = setup(2);
    group.start();
    const worker = children[0]!;
    worker.ready();
    worker.settled = 3;
    // Three failures of the other child; the worker's three tasks clear the count at the first.
    for (let n = 0; n < 3; n++) {
      failStarting(children);
      fireNext();
    }
    // The worker dies: replaced without counting, and its tasks, counted already, are no news.
    worker.exit({ code: null, signal: 'SIGKILL' });
    expect(msgs('child died after doing work')).toHaveLength(1);
    fireNext();
    for (let n = 0; n < 2; n++) {
      failStarting(children);
      fireNext();
    }
    expect(coded('TQ_ERR_GROUP_FAILED')).toEqual([]);
    failStarting(children); // the sixth failure without progress
    expect(group.state).toBe('failed');
  });

  it('does not forget the tasks of a child that is gone: new progress after it still counts', () => {
    const { group, children, fireNext, coded } = setup(2);
    group.start();
    const worker = children[0]!;
    worker.ready();
    worker.settled = 3;
    for (let n = 0; n < 3; n++) {
      failStarting(children);
      fireNext();
    }
    worker.exit({ code: null, signal: 'SIGKILL' });
    fireNext();
    // Its successor runs and finishes one task: progress, the count starts again.
    const successor = children.at(-1)!;
    successor.ready();
    successor.settled = 1;
    for (let n = 0; n < 5; n++) {
      failStarting(children);
      fireNext();
    }
    expect(coded('TQ_ERR_GROUP_FAILED')).toEqual([]);
    failStarting(children);
    expect(group.state).toBe('failed');
  });

  it('starts nothing while a restart is pending, whatever asks for it', () => {
    const { group, clock, children } = setup(1);
    group.start();
    failNewest(children);
    expect(group.state).toBe('delaying');
    group.setWanted(3);
    expect(children).toHaveLength(1);
    clock.advance(clock.pending()[0]!);
    expect(children).toHaveLength(4);
  });

  it('recycles a child by starting its successor first, and lets it go once the successor runs', () => {
    const { group, children, live, coded } = setup(1);
    group.start();
    const old = children[0]!;
    old.ready();
    old.send({ kind: 'recycle', reason: 'max_tasks_per_child 10 reached' });
    expect(group.children().map((c) => c.state)).toEqual(['retiring', 'starting']);
    expect(old.stopRequested).toBeUndefined(); // it keeps serving until the successor is ready
    const successor = children[1]!;
    successor.ready();
    expect(old.stopRequested).toBe(DRAIN_MS);
    old.exit({ code: 0, ready: true });
    expect(live()).toEqual([successor]);
    expect(children).toHaveLength(2); // a planned exit: no replacement for the retired child
    expect(group.state).toBe('serving');
    expect(coded('TQ_ERR_CHILD_EXITED')).toEqual([]);
  });

  it('on reload adds children, stops the newest first, and retries a failed group at once', () => {
    const { group, clock, children, live } = setup(1);
    group.start();
    children[0]!.ready();
    group.setWanted(3);
    expect(children).toHaveLength(3);
    group.setWanted(1);
    expect(children.map((c) => c.stopRequested)).toEqual([undefined, DRAIN_MS, DRAIN_MS]);
    children[1]!.exit({ code: 0 });
    children[2]!.exit({ code: 0 });
    expect(live()).toHaveLength(1);
    expect(group.retryNow()).toBe(false); // not failed: nothing to retry
    // Fail it: the running child crashes without work, its successors fail to start.
    children[0]!.exit({ code: 1, ready: true });
    while (group.state !== 'failed') {
      clock.advance(clock.pending()[0]!);
      failNewest(children);
    }
    const before = children.length;
    expect(group.retryNow()).toBe(true);
    expect(group.state).toBe('serving');
    expect(children).toHaveLength(before + 1); // at once, not after the pause
    expect(clock.pending()).toEqual([]); // the pause's timer is gone with the failed state
  });

  it('on stop drains every child, cancels a pending restart, and may be called twice', async () => {
    const { group, clock, children } = setup(2);
    group.start();
    children[0]!.ready();
    failNewest(children); // the second child: a restart is pending
    expect(group.state).toBe('delaying');
    const stopped = group.stop();
    expect(group.state).toBe('stopping');
    expect(clock.pending()).toEqual([]);
    expect(children[0]!.stopRequested).toBe(DRAIN_MS);
    const again = group.stop();
    children[0]!.exit({ code: 0 });
    await Promise.all([stopped, again]);
    clock.advance(10 * 60_000);
    expect(children).toHaveLength(2); // nothing started after stop
  });

  it('kills a child whose task runs past timeout + grace + margin, not before', () => {
    const { group, clock, children, msgs } = setup(1, {}, 10);
    group.start();
    const child = children[0]!;
    child.ready();
    child.held.set('task-1', clock.now());
    const limit = 10_000 + TIMEOUT_GRACE_MS + WATCHDOG_MARGIN_MS;
    clock.advance(limit);
    expect(child.killedWith).toBeUndefined();
    clock.advance(1000); // the watchdog's next look
    expect(child.killedWith).toBe('stuck past its task timeout');
    expect(msgs('child stuck past its task timeout')).toMatchObject([{ tasks: 1, timeoutS: 10 }]);
  });
});
