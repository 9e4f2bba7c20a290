import { randomUUID } from 'node:crypto';
import type { Workitem } from '@taskqueue/plugin-api';
import { errorWorkitem } from '@taskqueue/plugin-api/engine';
import type { Config } from '../common/config/types.js';
import { type ErrorCode, ErrorCodes, TqError } from '../common/errors.js';
import { ExitStatus } from '../common/exit.js';
import { READY_TIMEOUT_MS } from '../workerpool/child-handle.js';
import {
  LEAVING_MS,
  type OneShotEnd,
  runOneShot,
  type Watchdog,
} from '../workerpool/one-shot-child.js';
import type { OneShotReply } from '../workerpool/one-shot-ipc.js';
import { TIMEOUT_GRACE_MS, WATCHDOG_MARGIN_MS } from '../workerpool/timeouts.js';
import { runnableGroup } from './runnable-group.js';
import { readFields } from './stdin-fields.js';
import { taskInput } from './task-input.js';

export interface RunTaskOptions {
  type: string;
  /** The workitem or its fields as JSON, `-` for stdin, undefined for none. */
  workitem: string | undefined;
  /** `<type>_<instance>`; default the type's own group. */
  group: string | undefined;
  pretty: boolean;
}

/** What run-task writes: results on `out` (stdout), everything else on `err` (stderr). */
export interface RunTaskOutput {
  out: (text: string) => void;
  err: (line: string) => void;
}

/**
 * `taskqueue run-task TYPE [JSON|-]`: runs one workitem through the installed plugin of TYPE, in
 * a child started as the pool starts its children (as the group's user), with no broker; prints
 * what the plugin's reportResults published, one JSON workitem a line. Exit 0 when the plugin
 * returned a result, 1 when the error result went out (or nothing could be reported), 78 when
 * the plugin or its group cannot run here.
 *
 * @throws TqError the refusals of runnableGroup; `TQ_ERR_PLUGIN_LOAD`, `_API`, `_SHAPE`,
 *   `TQ_ERR_PLUGIN_SETUP` and `TQ_ERR_GROUP_REFUSED` (the child's identity) from the child.
 */
export async function runTask(
  config: Config,
  options: RunTaskOptions,
  output: RunTaskOutput,
): Promise<number> {
  const runnable = runnableGroup(config, options.type, options.group);
  const workitem = taskInput(options.type, readFields(options.workitem));
  for (const warning of runnable.warnings) output.err(`taskqueue: warning: ${warning}`);
  const { group } = runnable;
  const end = await runOneShot(
    { kind: 'run', plugin: runnable.oneShot, workitem, taskId: randomUUID() },
    watchdog(group.timeout, config.workerpool.shutdownTimeout),
  );
  const results = end.replies.find((r) => r.kind === 'results');
  if (results) {
    print(results.published, options.pretty, output);
    if (end.killed) output.err(`taskqueue: warning: the child was killed: ${end.killed}`);
    if (results.failure) output.err(`taskqueue: ${results.failure}`);
    return results.status === 'result' && !results.failure ? ExitStatus.OK : ExitStatus.FAILURE;
  }
  const attempt = lastAttempt(end.replies);
  if (attempt === undefined) throw startFailure(end);
  // The child died or was killed during the task: its error result is made here, as the pool
  // would publish it for a task whose child it killed (not through the plugin's reportResults).
  const cause = end.killed ?? `its child ended (${exitText(end)}) during attempt ${attempt}`;
  output.err(`taskqueue: the task failed: ${cause}; no further attempt`);
  const error = new Error(cause);
  error.stack = `Error: ${cause}`; // this command's own stack would say nothing about the task
  print([errorWorkitem(workitem, error)], options.pretty, output);
  return ExitStatus.FAILURE;
}

/**
 * How long the child may be silent: READY_TIMEOUT_MS to load and set up (as the pool gives a
 * child to become ready), an attempt its timeout plus the pool's grace and watchdog margin (no
 * limit without a timeout, as in the pool), teardown the pool's shutdown_timeout.
 */
function watchdog(timeoutS: number | undefined, shutdownTimeoutS: number): Watchdog {
  return (last: OneShotReply | undefined) => {
    if (last === undefined || last.kind === 'loaded') {
      const what = last === undefined ? 'loaded' : 'set up';
      return { ms: READY_TIMEOUT_MS, reason: `not ${what} within ${READY_TIMEOUT_MS / 1000} s` };
    }
    switch (last.kind) {
      case 'attempt':
        if (timeoutS === undefined) return undefined;
        return {
          ms: timeoutS * 1000 + TIMEOUT_GRACE_MS + WATCHDOG_MARGIN_MS,
          reason: `task timed out after ${timeoutS} s and its child did not respond: killed`,
        };
      case 'results':
        return {
          ms: shutdownTimeoutS * 1000,
          reason: `teardown still running after shutdown_timeout (${shutdownTimeoutS} s)`,
        };
      default:
        return { ms: LEAVING_MS, reason: 'it did not leave after its last message' };
    }
  };
}

function print(published: Workitem[], pretty: boolean, output: RunTaskOutput): void {
  for (const item of published) {
    output.out(`${pretty ? JSON.stringify(item, null, 2) : JSON.stringify(item)}\n`);
  }
}

function lastAttempt(replies: OneShotReply[]): number | undefined {
  let attempt: number | undefined;
  for (const reply of replies) if (reply.kind === 'attempt') attempt = reply.attempt;
  return attempt;
}

/** The error of a child that ended before its task started: its own word, else how it ended. */
function startFailure(end: OneShotEnd): TqError {
  const fatal = end.replies.find((r) => r.kind === 'fatal');
  if (fatal) {
    const code = fatal.code in ErrorCodes ? (fatal.code as ErrorCode) : 'TQ_ERR_PLUGIN_LOAD';
    return new TqError(code, fatal.message);
  }
  if (end.spawnError) {
    return new TqError('TQ_ERR_PLUGIN_LOAD', `cannot start the child: ${end.spawnError.message}`);
  }
  const loaded = end.replies.some((r) => r.kind === 'loaded');
  return new TqError(
    loaded ? 'TQ_ERR_PLUGIN_SETUP' : 'TQ_ERR_PLUGIN_LOAD',
    `the child ${end.killed ? `was killed: ${end.killed}` : `ended (${exitText(end)})`} before the task started`,
  );
}

function exitText(end: OneShotEnd): string {
  return end.signal ? `signal ${end.signal}` : `exit code ${end.code}`;
}
