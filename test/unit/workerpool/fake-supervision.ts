import { EventEmitter } from 'node:events';
import type { HeldTasks } from '../../../src/workerpool/held-tasks.js';
import type { ChildMessage, Verdict } from '../../../src/workerpool/ipc.js';
import type { Clock, ClockTimer } from '../../../src/workerpool/supervisor/clock.js';
import type {
  ChildExit,
  SupervisedChild,
} from '../../../src/workerpool/supervisor/supervised-child.js';

interface FakeTimer {
  at: number;
  fn: () => void;
  everyMs: number | undefined;
}

/** A clock that moves only when `advance()` is called; timers fire in time order. */
export class FakeClock implements Clock {
  #now = 1_000_000;
  #timers = new Set<FakeTimer>();

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const timer = { at: this.#now + ms, fn, everyMs: undefined };
    this.#timers.add(timer);
    return timer;
  }

  setInterval(fn: () => void, ms: number): ClockTimer {
    const timer = { at: this.#now + ms, fn, everyMs: ms };
    this.#timers.add(timer);
    return timer;
  }

  clear(timer: ClockTimer | undefined): void {
    if (timer) this.#timers.delete(timer as FakeTimer);
  }

  /** One-shot timers pending, as delays from now (intervals left out). */
  pending(): number[] {
    return [...this.#timers]
      .filter((t) => t.everyMs === undefined)
      .map((t) => t.at - this.#now)
      .sort((a, b) => a - b);
  }

  /** Moves time on by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = [...this.#timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#now = due.at;
      if (due.everyMs === undefined) this.#timers.delete(due);
      else due.at += due.everyMs;
      due.fn();
    }
    this.#now = end;
  }
}

let nextPid = 1000;

/**
 * A child without a process: the test says when it is ready, sends messages, settles tasks and
 * exits. `stop()` only records the request; `exit()` ends it.
 */
export class FakeChild extends EventEmitter implements SupervisedChild {
  pid: number | undefined;
  started = false;
  stopRequested: number | undefined;
  killedWith: string | undefined;
  settled = 0;
  held = new Map<string, number>();
  answers: Array<{ id: number; verdict: Verdict | undefined }> = [];
  #exited = false;
  #resolveExit!: () => void;
  #exitPromise = new Promise<void>((resolve) => {
    this.#resolveExit = resolve;
  });

  start(): void {
    this.started = true;
    this.pid = nextPid++;
  }

  get exited(): boolean {
    return this.#exited;
  }

  stop(deadlineMs: number): Promise<void> {
    this.stopRequested ??= deadlineMs;
    return this.#exitPromise;
  }

  kill(reason = 'killed by the pool'): void {
    this.killedWith ??= reason;
  }

  answer(id: number, verdict: Verdict | undefined): void {
    this.answers.push({ id, verdict });
  }

  heldTasks(): HeldTasks {
    return { held: new Map(this.held), waiting: new Map(), settled: this.settled };
  }

  checkHeldTasks(): void {}

  /** Said `ready`. */
  isReady = false;

  ready(): void {
    this.isReady = true;
    this.emit('ready');
  }

  send(message: ChildMessage): void {
    this.emit('message', message);
  }

  /** The process ends: by default a crash (exit code 1), unasked. */
  exit(status: Partial<ChildExit> = {}): void {
    if (this.#exited) throw new Error(`fake child ${this.pid} exited twice`);
    this.#exited = true;
    this.emit('exit', {
      code: 1,
      signal: null,
      ready: false,
      killedByPool: this.killedWith,
      ...status,
    } satisfies ChildExit);
    this.#resolveExit();
  }
}
