import type { BaseWorker, Workitem } from '@taskqueue/plugin-api';
import {
  errorWorkitem,
  type Invocation,
  invokePlugin,
  LazyAbort,
  retryDecision,
  shallowErrorWorkitem,
} from '@taskqueue/plugin-api/engine';
import { TqError } from '../../common/errors.js';
import { createLogger, type Logger } from '../../common/logger.js';
import { openPoolChannel } from '../channel.js';
import { loadWorker } from '../discovery/load.js';
import { readPluginPackage } from '../discovery/package-info.js';
import {
  ONE_SHOT_MAX_LINE_BYTES,
  type OneShotPlugin,
  type OneShotReply,
  type OneShotRequest,
  type OneShotStatus,
} from '../one-shot-ipc.js';
import { TIMEOUT_GRACE_MS } from '../timeouts.js';
import { verifyIdentity } from './verify-identity.js';

/**
 * The entry of a one-shot child (`taskqueue run-task`, `taskqueue plugins`): started with the
 * same command as a pool child, as the group's user, it checks that identity before any plugin
 * code loads, loads the plugin and either says so (`load`) or runs one workitem through it
 * (`run`) as a pool child would — setup, handleTask under the group's timeout, the group's
 * max_attempts (attempted again at once: there is no broker to wait in), the error result,
 * reportResults, teardown — collecting what is published instead of publishing it.
 */

/**
 * Started by hand, without the command's channel: kept at 2, the status it has always had;
 * `ExitStatus` (sysexits) has no entry for it, and USAGE (64) would change what it exits with.
 */
const EXIT_NO_COMMAND = 2;

const channel = openPoolChannel<OneShotRequest, OneShotReply>(undefined, ONE_SHOT_MAX_LINE_BYTES);
if (!channel) {
  process.stderr.write('taskqueue one-shot child: started without its command; nothing to do\n');
  process.exit(EXIT_NO_COMMAND);
}
const command = channel;

/** The command went away (or this child closed its side): nothing is left to do here. */
command.on('close', () => process.exit());
command.on('message', (request: OneShotRequest) => {
  void handle(request).catch((err: unknown) => fatal('TQ_ERR_PLUGIN_LOAD', err));
});

/** A plugin's worker as the host sees it: only handleTask is required (checked at load). */
type Worker = Pick<BaseWorker, 'handleTask'> &
  Partial<Pick<BaseWorker, 'setup' | 'teardown' | 'reportResults'>>;

async function handle(request: OneShotRequest): Promise<void> {
  const { plugin } = request;
  const log = createLogger('taskqueue-run-task', plugin.logLevel).child({
    group: plugin.group.name,
    type: plugin.group.type,
  });
  let worker: Worker;
  try {
    worker = await load(plugin);
  } catch (err) {
    fatal((err as { code?: string }).code ?? 'TQ_ERR_PLUGIN_LOAD', err);
    return;
  }
  if (request.kind === 'load') {
    finish({ kind: 'loaded' });
    return;
  }
  command.send({ kind: 'loaded' });
  try {
    await worker.setup?.call(worker, {
      type: plugin.group.type,
      instance: plugin.group.instance,
      settings: plugin.group.settings,
      logger: log,
    });
  } catch (err) {
    // Whatever the plugin's own error calls itself, for the command this is a failed setup.
    fatal('TQ_ERR_PLUGIN_SETUP', new Error(`setup failed: ${describe(err)}`));
    return;
  }
  const input = JSON.stringify(request.workitem);
  const { status, result } = await attempts(worker, plugin, input, request.taskId, log);
  const { published, failure, unserializable } = await report(worker, result, log);
  command.send({
    kind: 'results',
    status: unserializable ? 'error' : status,
    published,
    ...(failure === undefined ? {} : { failure }),
  });
  await Promise.resolve(worker.teardown?.call(worker)).catch((err: unknown) => {
    log.warn({ err }, 'plugin teardown failed');
  });
  // Not the event loop's end: a plugin that never let go of its task may keep it alive for good.
  command.close();
}

/** Identity first, then the plugin's code: it never runs as anyone but the group's user. */
async function load(plugin: OneShotPlugin): Promise<Worker> {
  if (plugin.identity) {
    try {
      verifyIdentity(plugin.identity);
    } catch (err) {
      throw new TqError('TQ_ERR_GROUP_REFUSED', (err as Error).message, { cause: err });
    }
  }
  return loadWorker(readPluginPackage(plugin.pluginDir), plugin.acceptedApi);
}

/**
 * Runs the task until it returns, fails for good, or the group's max_attempts are spent. Each
 * attempt gets a fresh copy of the input, as each delivery of a task message would.
 */
async function attempts(
  worker: Worker,
  plugin: OneShotPlugin,
  input: string,
  taskId: string,
  log: Logger,
): Promise<{ status: OneShotStatus; result: Workitem }> {
  const { group } = plugin;
  for (let attempt = 1; ; attempt++) {
    command.send({ kind: 'attempt', attempt });
    const workitem = JSON.parse(input) as Workitem;
    const taskLog = log.child({ taskId, attempt });
    const outcome: Invocation = await invokePlugin(worker, workitem, {
      settings: group.settings,
      logger: () => taskLog,
      abort: new LazyAbort(),
      attempt,
      taskId,
      timeoutS: group.timeout,
      graceMs: TIMEOUT_GRACE_MS,
    });
    if (outcome.kind === 'result') return { status: 'result', result: outcome.workitem };
    const err = describe(outcome.error);
    // The pool child's decision (the engine's): its error's flag and the group's max_attempts.
    const { retryable, retry } = retryDecision(outcome.error, attempt, group.maxAttempts);
    if (outcome.kind === 'hung') {
      // The plugin is still at it, in this process: another attempt would run beside it.
      taskLog.error(
        { err, outcome: outcome.kind },
        `attempt ${attempt} did not let go within ${TIMEOUT_GRACE_MS} ms of its timeout; no further attempt`,
      );
    } else if (retry) {
      taskLog.warn(
        { err, outcome: outcome.kind, maxAttempts: group.maxAttempts },
        `attempt ${attempt} of ${group.maxAttempts} failed; attempting again at once (the pool would wait retry_delay)`,
      );
      continue;
    } else {
      taskLog.info({ err, outcome: outcome.kind, retryable }, 'task failed');
    }
    return { status: 'error', result: errorWorkitem(workitem, outcome.error) };
  }
}

/**
 * The result through the plugin's reportResults (when it has one), with a publish that keeps
 * each workitem as it would travel: as JSON. One that cannot be written as JSON is replaced by
 * its error result, as the pool replaces it.
 */
async function report(
  worker: Worker,
  result: Workitem,
  log: Logger,
): Promise<{ published: Workitem[]; failure?: string; unserializable: boolean }> {
  const published: Workitem[] = [];
  let unserializable = false;
  const publish = async (item: Workitem): Promise<void> => {
    try {
      published.push(asJson(item));
    } catch (err) {
      unserializable = true;
      const refused = new TqError(
        'TQ_ERR_RESULT_UNSERIALIZABLE',
        `the result cannot be serialized as JSON: ${describe(err)}`,
        { cause: err },
      );
      log.error({ code: refused.code }, refused.message);
      published.push(asJson(shallowErrorWorkitem(item, refused)));
    }
  };
  try {
    if (typeof worker.reportResults === 'function') {
      await worker.reportResults.call(worker, result, publish);
    } else await publish(result);
  } catch (err) {
    const failure = `the plugin's reportResults failed: ${describe(err)}`;
    log.error({ err }, `${failure}; the pool would hand the task back to its queue`);
    return { published, failure, unserializable };
  }
  return { published, unserializable };
}

function asJson(item: Workitem): Workitem {
  const text = JSON.stringify(item);
  if (text === undefined) throw new Error(`${typeof item} is not a workitem`);
  return JSON.parse(text) as Workitem;
}

function fatal(code: string, err: unknown): void {
  finish({ kind: 'fatal', code, message: describe(err) });
}

/** Sends the last message; the channel's close then ends the child. */
function finish(message: OneShotReply): void {
  command.send(message, () => command.close());
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
