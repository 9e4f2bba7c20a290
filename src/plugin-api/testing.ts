/**
 * Helpers for a plugin's own tests, with no broker and no pool: contexts to call `handleTask`
 * with, a logger that records what it is told, and {@link runTask}, which runs one workitem
 * through a worker the way a taskqueue worker child does.
 *
 * ```ts
 * import { runTask } from '@taskqueue/plugin-api/testing';
 * const outcome = await runTask(MyWorker, { fields: { n: 1 } }, { settings: { scale: '2' } });
 * assert.equal(outcome.status, 'result');
 * ```
 *
 * @packageDocumentation
 */

import {
  errorWorkitem,
  type Invocation,
  invokePlugin,
  LazyAbort,
  retryDecision,
  TIMEOUT_GRACE_MS,
} from './engine.js';
import type { BaseWorker, SetupContext, TaskContext, TaskLogger, Workitem } from './index.js';

/** One line logged through a {@link RecordingLogger}. */
export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  /** The message: the second argument, or the first when it is a string. */
  msg: string | undefined;
  /** The fields object of the call (an Error is kept as `err`), or `{}`. */
  fields: Record<string, unknown>;
}

/** A {@link TaskLogger} that keeps every line, in order, for a test to look at. */
export interface RecordingLogger extends TaskLogger {
  readonly records: LogRecord[];
}

/** A logger that records every line instead of writing it. */
export function recordingLogger(): RecordingLogger {
  const records: LogRecord[] = [];
  const at =
    (level: LogRecord['level']) =>
    (obj: object | string, msg?: string): void => {
      if (typeof obj === 'string') records.push({ level, msg: obj, fields: {} });
      else if (obj instanceof Error) records.push({ level, msg, fields: { err: obj } });
      else records.push({ level, msg, fields: { ...obj } as Record<string, unknown> });
    };
  return { records, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * A task context for calling `handleTask` directly: no settings, attempt 1, task id
 * `test-task`, a signal that never fires and a recording logger, unless told otherwise.
 */
export function createTaskContext(
  options: {
    settings?: Record<string, string>;
    attempt?: number;
    taskId?: string;
    signal?: AbortSignal;
    logger?: TaskLogger;
  } = {},
): TaskContext {
  return {
    settings: { ...options.settings },
    logger: options.logger ?? recordingLogger(),
    signal: options.signal ?? new AbortController().signal,
    attempt: options.attempt ?? 1,
    taskId: options.taskId ?? 'test-task',
  };
}

/** A setup context for calling `setup` directly: type `test`, no instance, no settings. */
export function createSetupContext(
  options: {
    type?: string;
    instance?: string;
    settings?: Record<string, string>;
    logger?: TaskLogger;
  } = {},
): SetupContext {
  return {
    type: options.type ?? 'test',
    instance: options.instance,
    settings: { ...options.settings },
    logger: options.logger ?? recordingLogger(),
  };
}

/** How {@link runTask} runs the workitem: the group's settings and limits, as in config.ini. */
export interface RunTaskOptions {
  /** The worker type the setup context names (default `test`). */
  type?: string;
  /** The instance the setup context names (default none). */
  instance?: string;
  /** The group's settings, as the plugin would get them from its INI sections. */
  settings?: Record<string, string>;
  /** The group's `timeout` in seconds; undefined: no limit (as a group without `timeout`). */
  timeoutS?: number;
  /** The group's `max_attempts` (default 1); retryable failures are attempted again at once. */
  maxAttempts?: number;
  /** The task's id the context gives (default `test-task`). */
  taskId?: string;
  /** Default true: run `setup()` first and `teardown()` after. */
  setup?: boolean;
}

/** What came of {@link runTask}. */
export interface RunOutcome {
  /** `result` when the plugin's result went out; `error` when the error result did. */
  status: 'result' | 'error';
  /** What `reportResults` published, in order, each as JSON round-tripped (as on the wire). */
  published: Workitem[];
  /** `published[0]`. */
  result: Workitem | undefined;
  /** The last attempt's error when the status is `error`, else undefined. */
  error: unknown;
  /** False when the error asked not to be retried (a NonRetryableError); true otherwise. */
  retryable: boolean;
  /** The last attempt ran past `timeoutS` (its signal fired). */
  timedOut: boolean;
  /** How many times `handleTask` was called. */
  attempts: number;
  /** Every line logged through the setup and task contexts, in order. */
  logs: LogRecord[];
}

type Worker = Pick<BaseWorker, 'handleTask'> &
  Partial<Pick<BaseWorker, 'setup' | 'teardown' | 'reportResults'>>;

/**
 * Runs one workitem through `worker` (an instance, or a class to instantiate) as a worker child
 * does, with the child's own code for the call under timeout, the retry decision and the error
 * result: setup, then up to `maxAttempts` attempts (each on a fresh copy of the workitem, as a
 * retry reads the task again), then the result or the error result through `reportResults`,
 * then teardown. A throw from setup, reportResults or teardown rejects, as it would stop a child.
 */
export async function runTask(
  worker: BaseWorker | (new () => BaseWorker),
  workitem: Workitem,
  options: RunTaskOptions = {},
): Promise<RunOutcome> {
  const plugin: Worker = typeof worker === 'function' ? new worker() : worker;
  const settings = { ...options.settings };
  const maxAttempts = options.maxAttempts ?? 1;
  const logger = recordingLogger();
  const runSetup = options.setup ?? true;
  if (runSetup) {
    await plugin.setup?.({
      type: options.type ?? 'test',
      instance: options.instance,
      settings,
      logger,
    });
  }
  const published: Workitem[] = [];
  const publish = async (item: Workitem): Promise<void> => {
    published.push(JSON.parse(JSON.stringify(item)) as Workitem);
  };
  const wire = JSON.stringify(workitem);
  let attempt = 0;
  let failure: Exclude<Invocation, { kind: 'result' }> | undefined;
  let retryable = true;
  let outgoing: Workitem;
  for (;;) {
    attempt += 1;
    const input = JSON.parse(wire) as Workitem;
    const outcome = await invokePlugin(plugin, input, {
      settings,
      logger: () => logger,
      abort: new LazyAbort(),
      attempt,
      taskId: options.taskId ?? 'test-task',
      timeoutS: options.timeoutS,
      graceMs: TIMEOUT_GRACE_MS,
    });
    if (outcome.kind === 'result') {
      failure = undefined;
      outgoing = outcome.workitem;
      break;
    }
    failure = outcome;
    const decision = retryDecision(outcome.error, attempt, maxAttempts);
    retryable = decision.retryable;
    if (!decision.retry) {
      outgoing = errorWorkitem(input, outcome.error);
      break;
    }
  }
  if (plugin.reportResults) await plugin.reportResults(outgoing, publish);
  else await publish(outgoing);
  if (runSetup) await plugin.teardown?.();
  return {
    status: failure ? 'error' : 'result',
    published,
    result: published[0],
    error: failure?.error,
    retryable,
    timedOut: failure?.kind === 'timeout' || failure?.kind === 'hung',
    attempts: attempt,
    logs: logger.records,
  };
}
