import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/common/logger.js';
import type { ChildSpec } from '../../../src/workerpool/ipc.js';
import { DEFAULT_POLICY, GroupSupervisor } from '../../../src/workerpool/supervisor/group.js';
import { TaskLedger } from '../../../src/workerpool/supervisor/ledger.js';
import { FakeChild, FakeClock } from './fake-supervision.js';

/** A group of fake children on a fake clock, as group-supervisor.test.ts builds it. */
function setup(workers: number, timeoutS?: number) {
  const clock = new FakeClock();
  const children: FakeChild[] = [];
  const log = createLogger('tq-test', 'silent', () => {});
  const spec = {
    group: { name: 'g', type: 'g', instance: undefined, workers, prefetch: 1, timeout: timeoutS },
    identity: { user: 'builder', uid: 1001, gid: 1001, home: '/' },
  } as unknown as ChildSpec;
  const group = new GroupSupervisor(spec, 10_000, log, {
    policy: DEFAULT_POLICY,
    ledger: new TaskLedger(() => clock.now()),
    makeChild: () => {
      const child = new FakeChild();
      children.push(child);
      return child;
    },
    clock,
  });
  const fireNext = () => clock.advance(clock.pending()[0]!);
  return { group, clock, children, fireNext };
}

describe('GroupSupervisor snapshot and summary (taskqueue status)', () => {
  it('says wanted and running children, their start, slots, tasks done and in hand', () => {
    const { group, clock, children } = setup(2);
    group.start();
    const started = clock.now();
    children[0]!.ready();
    clock.advance(5_000);
    children[0]!.settled = 3;
    children[0]!.held.set('g\0t-7', clock.now() - 1_000);
    expect(group.summary()).toEqual({
      name: 'g',
      wanted: 2,
      running: 1,
      state: 'serving',
      failure: undefined,
    });
    const facts = group.snapshot();
    expect(facts).toMatchObject({
      type: 'g',
      user: 'builder',
      restarts: { total: 0, byCause: {} },
    });
    expect(facts.children).toEqual([
      {
        pid: children[0]!.pid,
        state: 'running',
        slot: 0,
        startedAt: started,
        restarts: 0,
        held: new Map([['g\0t-7', clock.now() - 1_000]]),
        waiting: new Map(),
        settled: 3,
      },
      {
        pid: children[1]!.pid,
        state: 'starting',
        slot: 1,
        startedAt: started,
        restarts: 0,
        held: new Map(),
        waiting: new Map(),
        settled: 0,
      },
    ]);
  });

  it('counts restarts by cause, per group and per slot; a replacement takes its slot', () => {
    const { group, children, fireNext } = setup(2, 1);
    group.start();
    for (const child of children) child.ready();
    children[1]!.settled = 1; // it did work: its death is a crash of its task, not a restart storm
    children[1]!.exit({ code: null, signal: 'SIGKILL' });
    fireNext();
    expect(children).toHaveLength(3);
    children[2]!.exit({ code: 1 }); // fails to start
    fireNext();
    const facts = group.snapshot();
    expect(facts.restarts).toEqual({ total: 2, byCause: { killed: 1, startup_failure: 1 } });
    const slot1 = facts.children.find((child) => child.pid === children[3]!.pid);
    expect(slot1).toMatchObject({ slot: 1, restarts: 2 });
    expect(facts.children.find((child) => child.slot === 0)).toMatchObject({ restarts: 0 });
  });

  it('while failed says why and until when; a retry clears it', () => {
    const { group, clock, children, fireNext } = setup(1);
    group.start();
    for (let n = 0; n <= DEFAULT_POLICY.maxRestarts; n++) {
      children.at(-1)!.exit({ code: 1 });
      if (n < DEFAULT_POLICY.maxRestarts) {
        expect(group.snapshot().restartAt).toBeGreaterThan(clock.now());
        fireNext();
      }
    }
    const summary = group.summary();
    expect(summary.state).toBe('failed');
    expect(summary.failure).toMatchObject({
      code: 'TQ_ERR_GROUP_FAILED',
      at: clock.now(),
      retryAt: clock.now() + DEFAULT_POLICY.failedPauseMs,
    });
    expect(summary.failure?.message).toMatch(/^GROUP FAILED/);
    expect(group.snapshot().restarts.byCause).toEqual({ startup_failure: 6 });
    expect(group.retryNow()).toBe(true);
    expect(group.summary().failure).toBeUndefined();
  });

  it('names a child killed for a task past its timeout, and one that broke the protocol', () => {
    const { group, clock, children, fireNext } = setup(2, 1);
    group.start();
    for (const child of children) child.ready();
    children[0]!.held.set('g\0late', clock.now());
    clock.advance(10_000); // the watchdog's rounds find it overdue and kill it
    expect(children[0]!.killedWith).toBeDefined();
    children[0]!.exit({ code: null, signal: 'SIGKILL' });
    children[1]!.emit('broken', { code: 'TQ_ERR_CHILD_MESSAGE', reason: 'sent junk' });
    children[1]!.killedWith = 'TQ_ERR_CHILD_MESSAGE';
    children[1]!.exit({ code: null, signal: 'SIGKILL' });
    fireNext();
    expect(group.snapshot().restarts.byCause).toEqual({ stuck: 1, protocol: 1 });
  });
});
