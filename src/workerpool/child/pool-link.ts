import type { ChildMessage, ParentMessage, Verdict } from '../ipc.js';

/** An unanswered question gets no verdict: the task then counts as a crash elsewhere. */
const ASK_TIMEOUT_MS = 5_000;

/** Settled tasks wait at most this long before they go to the pool, in one message. */
const BATCH_MS = 20;

/**
 * The child's side of the task ledger: it tells the pool which tasks it holds, so that the pool
 * knows which ones a death of this child interrupted, and asks about a task that comes back
 * redelivered. Without a pool (a child started by hand) it knows nothing and says nothing.
 *
 * Messages are batched, since one per task costs more than the task itself at full speed. A
 * take is sent before the plugin sees the task (a microtask later: together with the other
 * deliveries of the same socket read), so that the pool knows what a child held when it died, and
 * the watchdog sees a task whose plugin blocks the event loop for good. Settlements wait for the
 * next take or BATCH_MS: one the pool misses only leaves a verdict nobody asks for. Anything else
 * (a loss, a question, a stop) flushes the batch first, so the pool sees events in order.
 */
export interface PoolLink {
  /** Resolves once the pool was told: await it before the plugin sees the task. */
  started(key: string): Promise<void>;
  finished(key: string): void;
  lost(keys: string[], cause: string): void;
  verdict(key: string): Promise<Verdict | undefined>;
  /** Sends what is batched now (before the child exits). */
  flush(): void;
}

export function ipcPoolLink(): PoolLink {
  let next = 0;
  const waiting = new Map<number, (verdict: Verdict | undefined) => void>();
  let changes: Array<[string, boolean]> = [];
  let timer: NodeJS.Timeout | undefined;
  let announced: Promise<void> | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    announced = undefined;
    if (changes.length === 0) return;
    const batch = changes;
    changes = [];
    if (process.connected) process.send?.({ kind: 'tasks', changes: batch } as ChildMessage);
  };
  const settled = (key: string) => {
    changes.push([key, false]);
    timer ??= setTimeout(flush, BATCH_MS);
  };
  const started = (key: string): Promise<void> => {
    changes.push([key, true]);
    announced ??= Promise.resolve().then(flush);
    return announced;
  };
  const send = (message: ChildMessage) => {
    flush();
    if (process.connected) process.send?.(message);
  };
  process.on('message', (message: ParentMessage) => {
    if (message.kind !== 'verdict') return;
    waiting.get(message.id)?.(message.verdict);
  });
  return {
    started,
    finished: settled,
    flush,
    lost: (keys, cause) => {
      if (keys.length > 0) send({ kind: 'lost', keys, cause });
    },
    verdict: (key) => {
      if (!process.connected) return Promise.resolve(undefined);
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
