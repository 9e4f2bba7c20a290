import type { Channel } from '../channel.js';
import { HeldTasksWriter } from '../held-tasks.js';
import { HELD_TASKS_FD } from '../held-tasks-layout.js';
import type { ChildMessage, ParentMessage, Verdict } from '../ipc.js';

/** An unanswered question gets no verdict: the task then counts as a crash elsewhere. */
const ASK_TIMEOUT_MS = 5_000;

/**
 * The child's side of the task ledger: it tells the pool which tasks it holds, so that the pool
 * knows which ones a death of this child interrupted, and asks about a task that comes back
 * redelivered. Without a pool (a child started by hand) it knows nothing and says nothing.
 *
 * Takes and settlements go to the file the pool gave this child (held-tasks.ts), not the channel:
 * a take is written before the plugin sees the task, so that the pool knows what a child held
 * when it died, and the watchdog sees a task whose plugin blocks the event loop for good.
 * Losses and questions, which are rare, go over the channel (channel.ts).
 */
export interface PoolLink {
  /**
   * Call before the plugin sees the task; returns what to pass to `finished`. `slot`: the one
   * `waiting` gave it, when it waited for its turn.
   */
  started(key: string, slot?: number): number;
  /** A task held but not started yet (`concurrency`): its crash would not be its own. */
  waiting(key: string): number;
  finished(slot: number): void;
  /** `code`, when given, comes back in the verdict of each key (ipc.ts Verdict). */
  lost(keys: string[], cause: string, code?: string): void;
  verdict(key: string): Promise<Verdict | undefined>;
}

export function poolLink(
  pool: Channel<ParentMessage, ChildMessage> | undefined,
  onError: (err: Error) => void,
): PoolLink {
  const held = new HeldTasksWriter(HELD_TASKS_FD, onError);
  // Every way out but a kill: the pool reads the file once the child is gone.
  process.on('exit', () => held.flush());
  let next = 0;
  const waiting = new Map<number, (verdict: Verdict | undefined) => void>();
  const send = (message: ChildMessage) => pool?.send(message);
  pool?.on('message', (message: ParentMessage) => {
    if (message.kind !== 'verdict') return;
    waiting.get(message.id)?.(message.verdict);
  });
  return {
    started: (key, slot) => held.took(key, slot),
    waiting: (key) => held.waiting(key),
    finished: (slot) => held.settled(slot),
    lost: (keys, cause, code) => {
      if (keys.length === 0) return;
      send(
        code === undefined ? { kind: 'lost', keys, cause } : { kind: 'lost', keys, cause, code },
      );
    },
    verdict: (key) => {
      if (!pool?.open) return Promise.resolve(undefined);
      const id = ++next;
      return new Promise((resolve) => {
        const timer = setTimeout(() => answer(undefined), ASK_TIMEOUT_MS);
        const answer = (verdict: Verdict | undefined) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(verdict);
        };
        waiting.set(id, answer);
        send({ kind: 'ask', id, key });
      });
    },
  };
}
