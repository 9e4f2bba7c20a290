import type { BaseWorker, Workitem } from '@taskqueue/plugin-api';
import type { Logger } from '../../common/logger.js';

/**
 * How a call of the plugin ended: it returned (`result`), threw (`failed`), ran past `timeout`
 * and let go within the grace after its signal fired (`timeout`), or did not let go (`hung`).
 */
export type Invocation =
  | { kind: 'result'; workitem: Workitem }
  | { kind: 'failed'; error: unknown }
  | { kind: 'timeout'; error: Error }
  | { kind: 'hung'; error: Error };

/**
 * An AbortController made only when someone reads its signal: most plugins never do, and
 * making one costs about 3 µs, more than many tasks take. Aborted before, it is born aborted.
 */
export class LazyAbort {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

export interface InvokeOptions {
  settings: Record<string, string>;
  /** The task's logger, made on first use. */
  logger: () => Logger;
  abort: LazyAbort;
  attempt: number;
  taskId: string;
  /** Seconds the task may run, or undefined for no limit. */
  timeoutS: number | undefined;
  graceMs: number;
}

/** Calls `handleTask` under the group's timeout: the signal fires, then a grace, then we stop waiting. */
export async function invokePlugin(
  worker: Pick<BaseWorker, 'handleTask'>,
  workitem: Workitem,
  options: InvokeOptions,
): Promise<Invocation> {
  const call: Promise<Invocation> = (async () => {
    try {
      const { abort, logger } = options;
      const returned = await worker.handleTask(workitem, {
        settings: options.settings,
        get logger() {
          return logger();
        },
        get signal() {
          return abort.signal;
        },
        attempt: options.attempt,
        taskId: options.taskId,
      });
      return { kind: 'result', workitem: returned ?? workitem };
    } catch (error) {
      return { kind: 'failed', error };
    }
  })();
  if (options.timeoutS === undefined) return call;
  const first = await raceTimer(call, options.timeoutS * 1000);
  if (first !== undefined) return first;
  const error = new Error(`task timed out after ${options.timeoutS} s`);
  error.name = 'TimeoutError';
  options.abort.abort(error);
  const second = await raceTimer(call, options.graceMs);
  // Whatever it returns once its time was up, the attempt failed: its result came too late.
  return { kind: second === undefined ? 'hung' : 'timeout', error };
}

/** `promise`'s value, or undefined after `ms`; the timer never outlives the race. */
async function raceTimer<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, elapsed]);
  } finally {
    clearTimeout(timer);
  }
}
