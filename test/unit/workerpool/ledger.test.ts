import { describe, expect, it } from 'vitest';
import { type TaskHolder, TaskLedger } from '../../../src/workerpool/supervisor/ledger.js';

/** A child's held tasks as the pool reads them from its file, kept in memory here. */
function holder(...keys: string[]): TaskHolder & { held: Map<string, number> } {
  const held = new Map(keys.map((key) => [key, Date.now()]));
  return { held, heldTasks: () => ({ held }) };
}

describe('task ledger', () => {
  it('tells a death once, and a loss to every copy that comes back', async () => {
    const ledger = new TaskLedger();
    ledger.record('k', { kind: 'crash', cause: 'SIGKILL' });
    expect(await ledger.ask({}, 'k')).toEqual({ kind: 'crash', cause: 'SIGKILL' });
    expect(await ledger.ask({}, 'k')).toBeUndefined();
    ledger.record('k', { kind: 'lost', cause: 'connection' });
    expect(await ledger.ask({}, 'k')).toEqual({ kind: 'lost', cause: 'connection' });
    expect(await ledger.ask({}, 'k')).toEqual({ kind: 'lost', cause: 'connection' });
    ledger.record('k', { kind: 'timeout', cause: 'stuck' });
    expect(await ledger.ask({}, 'k')).toEqual({ kind: 'timeout', cause: 'stuck' });
  });

  it('turns what a gone holder held into verdicts, and nothing else', async () => {
    const ledger = new TaskLedger();
    const child = holder('a');
    ledger.attach(child);
    expect([...ledger.heldBy(child).keys()]).toEqual(['a']);
    ledger.holderGone(child, (key) => ({ kind: 'crash', cause: `died holding ${key}` }));
    expect(await ledger.ask({}, 'a')).toEqual({ kind: 'crash', cause: 'died holding a' });
    expect(await ledger.ask({}, 'b', 10)).toBeUndefined();
  });

  it("records a gone holder's tasks that never started as lost, not as its crash", async () => {
    const ledger = new TaskLedger();
    const held = new Map([['a', Date.now()]]);
    const waiting = new Map([['b', 1]]);
    const child: TaskHolder = { heldTasks: () => ({ held, waiting }) };
    ledger.attach(child);
    ledger.holderGone(child, () => ({ kind: 'crash', cause: 'exit 7' }), {
      kind: 'lost',
      cause: 'it waited for its turn',
    });
    expect(await ledger.ask({}, 'a')).toEqual({ kind: 'crash', cause: 'exit 7' });
    expect(await ledger.ask({}, 'b')).toEqual({ kind: 'lost', cause: 'it waited for its turn' });
  });

  it('waits for the exit of a holder that has the task waiting, as for one running it', async () => {
    const ledger = new TaskLedger();
    const held = new Map<string, number>();
    const waiting = new Map([['b', 1]]);
    const child: TaskHolder = { heldTasks: () => ({ held, waiting }) };
    ledger.attach(child);
    const asked = ledger.ask({}, 'b', 5_000);
    ledger.holderGone(child, () => ({ kind: 'crash', cause: 'x' }), { kind: 'lost', cause: 'w' });
    expect(await asked).toEqual({ kind: 'lost', cause: 'w' });
  });

  it('waits for the exit of another holder that the pool has not seen yet', async () => {
    const ledger = new TaskLedger();
    const dead = holder('k');
    const asker = holder('k');
    ledger.attach(dead);
    ledger.attach(asker);
    const answer = ledger.ask(asker, 'k', 5_000);
    setTimeout(() => ledger.holderGone(dead, () => ({ kind: 'crash', cause: 'SIGKILL' })), 20);
    expect(await answer).toEqual({ kind: 'crash', cause: 'SIGKILL' });
  });

  it('does not wait on the asker itself, and gives up on a live holder after the wait', async () => {
    const ledger = new TaskLedger();
    const asker = holder('k');
    ledger.attach(asker);
    expect(await ledger.ask(asker, 'k', 5_000)).toBeUndefined();
    ledger.attach(holder('k'));
    const started = Date.now();
    expect(await ledger.ask(asker, 'k', 50)).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  });

  it('forgets verdicts older than its memory', async () => {
    let now = 0;
    const ledger = new TaskLedger(() => now);
    ledger.record('k', { kind: 'lost', cause: 'x' });
    now += 16 * 60_000;
    expect(await ledger.ask({}, 'k')).toBeUndefined();
  });
});
