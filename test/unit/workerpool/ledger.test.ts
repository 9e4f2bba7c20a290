import { describe, expect, it } from 'vitest';
import { TaskLedger } from '../../../src/workerpool/supervisor/ledger.js';

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

  it('turns what a gone holder held into verdicts, and forgets what it released', async () => {
    const ledger = new TaskLedger();
    const child = {};
    ledger.hold(child, 'a');
    ledger.hold(child, 'b');
    ledger.release(child, 'b');
    expect([...ledger.heldBy(child).keys()]).toEqual(['a']);
    ledger.holderGone(child, (key) => ({ kind: 'crash', cause: `died holding ${key}` }));
    expect(await ledger.ask({}, 'a')).toEqual({ kind: 'crash', cause: 'died holding a' });
    expect(await ledger.ask({}, 'b', 10)).toBeUndefined();
    expect(ledger.heldBy(child).size).toBe(0);
  });

  it('waits for the exit of another holder that the pool has not seen yet', async () => {
    const ledger = new TaskLedger();
    const dead = {};
    const asker = {};
    ledger.hold(dead, 'k');
    ledger.hold(asker, 'k');
    const answer = ledger.ask(asker, 'k', 5_000);
    setTimeout(() => ledger.holderGone(dead, () => ({ kind: 'crash', cause: 'SIGKILL' })), 20);
    expect(await answer).toEqual({ kind: 'crash', cause: 'SIGKILL' });
  });

  it('does not wait on the asker itself, and gives up on a live holder after the wait', async () => {
    const ledger = new TaskLedger();
    const asker = {};
    ledger.hold(asker, 'k');
    expect(await ledger.ask(asker, 'k', 5_000)).toBeUndefined();
    ledger.hold({}, 'k');
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
