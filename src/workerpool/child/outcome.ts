import { BaseWorker, type Workitem } from '@taskqueue/plugin-api';
import {
  errorWorkitem,
  type Invocation,
  retryDecision,
  shallowErrorWorkitem,
} from '@taskqueue/plugin-api/engine';
import { deadQueue } from '../../common/amqp/queues.js';
import { REQUEUE_PAUSE_MS, requeueAfterPause } from '../../common/amqp/requeue.js';
import { ERROR_CODE_HEADER } from '../../common/amqp/wire.js';
import { hasCode, TqError } from '../../common/errors.js';
import type { ChildSpec, Verdict } from '../ipc.js';
import { CRASH_LOG_HEADER, CRASHES_HEADER, crashesOf } from './attempts.js';
import type { PoolLink } from './pool-link.js';
import { publishResult, type RunFacts } from './result-route.js';
import { expiredError } from './schedule-check.js';
import type { TaskInHand } from './task.js';
import type { ChildEvents } from './task-events.js';
import { parseWorkitem } from './workitem.js';

/** A plugin's worker as the host sees it: only handleTask is required (checked at load). */
export type PluginWorker = Pick<BaseWorker, 'handleTask'> &
  Partial<Pick<BaseWorker, 'setup' | 'teardown' | 'reportResults'>>;

/**
 * How a task in hand ended. The plugin's own ends (`result`, `failed`, `timeout`, `hung`), and
 * those it never saw or whose outcome does not count.
 */
export type Outcome =
  | Invocation
  /** Too large, not UTF-8, not a JSON object: parked unread. */
  | { kind: 'unreadable'; error: unknown }
  /** The broker refused its result before (the pool's verdict): parked without running it. */
  | { kind: 'result-refused'; cause: string }
  /** Redelivered because its consumer died (or was killed for its timeout). */
  | { kind: 'consumer-died'; verdict: Verdict | undefined }
  /**
   * Cancelled (cancel/feed.ts): before the plugin saw it (`ran` false), or while it ran and the
   * plugin let go of it after its signal was aborted (a plugin that returns a result anyway
   * succeeded: the final says what happened).
   */
  | { kind: 'cancelled'; ran: boolean }
  /** Past its deadline (schedule-check.ts) before the plugin saw it: answered, never run. */
  | { kind: 'expired'; expiresAt: string }
  /** Came before its not-before: back into the delay ladder for the rest, not run. */
  | { kind: 'early'; dueMs: number }
  /** Handed back at shutdown, or its channel closed while it ran: the broker has it again. */
  | { kind: 'dropped'; why: 'handed-back' | 'connection-lost' };

/**
 * How a settlement ended for the broker: `acked` (the task is done with), `requeued` (refused by
 * the broker, handed back after a pause), `left` (nothing sent: the broker redelivers it or
 * already has it again).
 */
export type Settlement = 'acked' | 'requeued' | 'left';

export interface OutcomeHooks {
  /**
   * After the outcome of a plugin's run is published and before its ack: the recycle check,
   * whose cancel must reach the broker before the ack frees the prefetch slot.
   */
  beforeAck?(task: TaskInHand): void;
  /** Told once per task settled, whatever its outcome: the one place to watch tasks end. */
  onSettled?(task: TaskInHand, outcome: Outcome, settlement: Settlement): void;
  /** Whether the child is stopping: a refused task is then handed back without the pause. */
  stopping(): boolean;
}

/**
 * What happens to a task once its outcome is known (SPEC §1 *Result*, *Failure*, *Crash*): the
 * result published, a failed attempt retried through the broker or reported, a crash counted or
 * the task parked as poison, an unreadable task or one whose result is too large parked with an
 * error result; then the ack, only once all that is confirmed. `settle` is the only way in, and
 * `#finish` the one place where a task is done with.
 */
export class OutcomePolicy {
  #spec: ChildSpec;
  #worker: PluginWorker;
  #pool: PoolLink;
  #hooks: OutcomeHooks;
  #debug: boolean;
  /** The size of the smallest result the broker refused: one as large is not sent again. */
  #refusedBytes = Number.POSITIVE_INFINITY;
  /** Lifecycle events ([tracking] enabled): a final one is confirmed before the ack. */
  #events: ChildEvents | undefined;

  constructor(
    spec: ChildSpec,
    worker: PluginWorker,
    pool: PoolLink,
    hooks: OutcomeHooks,
    debug = false,
    events: ChildEvents | undefined = undefined,
  ) {
    this.#events = events;
    this.#spec = spec;
    this.#worker = worker;
    this.#pool = pool;
    this.#hooks = hooks;
    this.#debug = debug;
  }

  /** Acts on `outcome`, then acks (or hands back, or leaves) the task. Never rejects. */
  async settle(task: TaskInHand, outcome: Outcome): Promise<void> {
    let settlement: Settlement;
    try {
      settlement = await this.#act(task, outcome);
    } catch (err) {
      task.ending = 'returned';
      settlement = await this.#notConfirmed(task, err);
    }
    this.#finish(task, outcome, settlement);
  }

  async #act(task: TaskInHand, outcome: Outcome): Promise<Settlement> {
    const { acks } = task.tools;
    switch (outcome.kind) {
      case 'dropped':
        task.ending = 'returned';
        if (outcome.why === 'handed-back')
          task.log().info('task handed back at shutdown; its late outcome is dropped');
        else task.log().warn('connection lost while the task ran; the broker redelivers it');
        return 'left';
      case 'unreadable':
        task.ending = 'parked';
        await this.#refuseUnreadable(task, outcome.error);
        await this.#events?.final(task, 'poisoned', {
          error: `unreadable task: ${describeError(outcome.error)}`,
          errorCode: codeOf(outcome.error) ?? 'TQ_ERR_TASK_UNREADABLE',
        });
        acks.ack(task.message);
        return 'acked';
      case 'result-refused':
        // Its result was refused by the broker: running it again would make the same result.
        task.ending = 'parked';
        await this.#refuseResult(task, outcome.cause, { attempts: task.attempt, durationMs: 0 });
        await this.#events?.final(task, 'poisoned', {
          error: outcome.cause,
          errorCode: 'TQ_ERR_RESULT_TOO_LARGE',
        });
        acks.ack(task.message);
        return 'acked';
      case 'consumer-died':
        await this.#afterLostConsumer(task, outcome.verdict);
        acks.ack(task.message);
        return 'acked';
      case 'result':
        task.ending = 'succeeded'; // unless publishing parks it
        await this.#publish(task, outcome.workitem, this.#facts(task));
        // Without tracking, no await of nothing on every result (bench/FINDINGS.md).
        if (!this.#events) break;
        // Parked instead (a result that cannot be sent): poisoned, its reason already logged.
        if (parkedMeanwhile(task))
          await this.#events.final(task, 'poisoned', { error: 'result not published; parked' });
        else await this.#events.final(task, 'succeeded', { result: outcome.workitem });
        break;
      case 'cancelled':
        await this.#cancelled(task, outcome.ran);
        break;
      case 'expired':
        await this.#expired(task, outcome.expiresAt);
        break;
      case 'early':
        task.ending = 'returned';
        await task.tools.router.delay(task.message, outcome.dueMs);
        task
          .log()
          .info({ notBefore: new Date(outcome.dueMs).toISOString() }, 'task early; delayed again');
        acks.ack(task.message);
        return 'acked';
      default:
        await this.#failAttempt(task, outcome);
    }
    this.#hooks.beforeAck?.(task);
    if (this.#debug)
      task.log().debug({ durationMs: task.durationMs, outcome: outcome.kind }, 'task done');
    // Handed back while its result was being confirmed: the broker already has it again.
    if (task.abandoned) return 'left';
    acks.ack(task.message);
    return 'acked';
  }

  /** The one place a task is done with, whatever became of it. */
  #finish(task: TaskInHand, outcome: Outcome, settlement: Settlement): void {
    this.#hooks.onSettled?.(task, outcome, settlement);
  }

  /**
   * Publishing failed. The pool is told first, so that the redelivery is not taken for a crash
   * of this task (a refused result told it already, with what to do).
   */
  async #notConfirmed(task: TaskInHand, err: unknown): Promise<Settlement> {
    if (!hasCode(err, 'TQ_ERR_RESULT_TOO_LARGE'))
      this.#pool.lost([task.key], 'its outcome was not confirmed');
    if (hasCode(err, 'TQ_ERR_AMQP_CHANNEL_CLOSED') || task.tools.closed) {
      task
        .log()
        .warn({ err: (err as Error).message }, 'outcome not confirmed; the broker redelivers');
      return 'left';
    }
    // Refused by the broker (a full queue, say): handed back after a pause, never held forever
    // by this child, never asked for again in a hot loop.
    task.log().error({ err: (err as Error).message }, 'outcome refused; task requeued');
    await requeueAfterPause(
      task.tools.acks,
      task.message,
      this.#hooks.stopping() ? 0 : REQUEUE_PAUSE_MS,
    );
    return 'requeued';
  }

  #facts(task: TaskInHand): RunFacts {
    return { attempts: task.attempt, durationMs: task.durationMs };
  }

  /**
   * A task that comes back redelivered, and not because its consumer let go of it: its
   * consumer died. A consumer killed for a timeout failed an attempt; any other death counts as
   * a crash, carried in the message's headers so that every pool on every host counts the same.
   */
  async #afterLostConsumer(task: TaskInHand, verdict: Verdict | undefined): Promise<void> {
    const { group } = this.#spec;
    const { router } = task.tools;
    if (verdict?.kind === 'timeout') {
      await this.#failAttempt(task, { kind: 'timeout', error: new Error(verdict.cause) });
      return;
    }
    const cause = verdict?.cause ?? 'its consumer went away (on another host, or its connection)';
    const previous = crashesOf(task.message.properties);
    const crashes = previous.count + 1;
    const crashLog = [...previous.log, `${new Date().toISOString()} ${cause}`];
    if (crashes < group.maxCrashes) {
      task.ending = 'crashed';
      await router.requeueAfterCrash(task.message, crashes, crashLog);
      task
        .log()
        .warn(
          { code: 'TQ_ERR_TASK_CRASHED', crashes, maxCrashes: group.maxCrashes, cause },
          'consumer died with the task',
        );
      return;
    }
    const reason = `poison: ${crashes} consumers died running this task (max_crashes ${group.maxCrashes})`;
    task.ending = 'poisoned';
    await router.park(task.message, reason, {
      [CRASHES_HEADER]: crashes,
      [CRASH_LOG_HEADER]: crashLog,
      [ERROR_CODE_HEADER]: 'TQ_ERR_TASK_POISON',
    });
    const error = new Error(`${reason}: ${crashLog.join('; ')}`);
    await this.#publish(task, errorWorkitem(task.workitem, error), {
      attempts: task.attempt,
      durationMs: 0,
    });
    await this.#events?.final(task, 'poisoned', {
      error: reason,
      errorCode: 'TQ_ERR_TASK_POISON',
      crashLog,
    });
    task
      .log()
      .error(
        { code: 'TQ_ERR_TASK_POISON', queue: deadQueue(group.type), crashes, crashLog },
        'poison task parked',
      );
  }

  /**
   * A task the plugin never sees (too large, not UTF-8, not a JSON object): parked on
   * `worker_<type>.dead` as it came, with the reason and its code in headers, and an error result
   * saying so, so that whoever waits for it is not left waiting.
   */
  async #refuseUnreadable(task: TaskInHand, err: unknown): Promise<void> {
    const { group } = this.#spec;
    const code = (err as { code?: unknown }).code;
    const reason = `unreadable task: ${(err as Error).message}`;
    await task.tools.router.park(task.message, reason, {
      [ERROR_CODE_HEADER]: typeof code === 'string' ? code : 'TQ_ERR_TASK_UNREADABLE',
    });
    task.log().error({ queue: deadQueue(group.type), reason, code }, 'task parked');
    await this.#publishOne(task, { fields: {}, error: reason, trace: reason } as Workitem, {
      attempts: task.attempt,
      durationMs: 0,
    });
  }

  /**
   * A cancelled task: never retried. Its error result is published as a failure's is (SPEC §1
   * *Failure*: whoever waits for a result, a `reply_to` or a workflow engine, is not left
   * waiting), with the code in its error text, then the `cancelled` final.
   */
  async #cancelled(task: TaskInHand, ran: boolean): Promise<void> {
    task.ending = 'failed';
    const error = new TqError(
      'TQ_ERR_TASK_CANCELLED',
      ran
        ? 'task cancelled while it ran (TQ_ERR_TASK_CANCELLED): its signal was aborted'
        : 'task cancelled before it started (TQ_ERR_TASK_CANCELLED): not run',
    );
    task.log().info({ code: error.code, ran }, 'task cancelled');
    const result = errorWorkitem(task.workitem, error);
    await this.#publish(task, result, this.#facts(task));
    // No copy of the result: it is the input plus the error, and the event's parser takes a
    // result on succeeded, failed and poisoned only (tracking/parse.ts).
    await this.#events?.final(task, 'cancelled', { error: error.message, errorCode: error.code });
  }

  /**
   * A task past its deadline: never run, never retried. Its error result goes out as a
   * failure's does (the sender is told, the task is not dropped), then the `expired` final.
   */
  async #expired(task: TaskInHand, expiresAt: string): Promise<void> {
    task.ending = 'failed';
    const error = expiredError(expiresAt);
    task.log().info({ code: error.code, expiresAt }, 'task expired; not run');
    const result = errorWorkitem(task.workitem, error);
    await this.#publish(task, result, this.#facts(task));
    await this.#events?.final(task, 'expired', {
      error: error.message,
      errorCode: error.code,
      result,
    });
  }

  /** A failed attempt: retried through the broker while attempts remain, else the error result. */
  async #failAttempt(
    task: TaskInHand,
    failure: Exclude<Invocation, { kind: 'result' }>,
  ): Promise<void> {
    const { group } = this.#spec;
    const { attempt } = task;
    const text = describeError(failure.error);
    const { retryable, retry } = retryDecision(failure.error, attempt, group.maxAttempts);
    task.ending =
      failure.kind === 'timeout' || failure.kind === 'hung'
        ? 'timed_out'
        : retry
          ? 'retried'
          : 'failed';
    if (retry) {
      const delayMs = await task.tools.router.retry(
        task.message,
        group.retryDelay,
        attempt + 1,
        text,
      );
      task
        .log()
        .info({ err: text, nextAttempt: attempt + 1, delayMs }, 'task failed; retry scheduled');
      this.#events?.retrying(task, delayMs, text);
      return;
    }
    task.log().info({ err: text, outcome: failure.kind, retryable }, 'task failed');
    const result = errorWorkitem(task.workitem, failure.error);
    await this.#publish(task, result, this.#facts(task));
    await this.#events?.final(task, parkedMeanwhile(task) ? 'poisoned' : 'failed', {
      error: text,
      errorCode: codeOf(failure.error),
      result,
    });
  }

  /** The result goes out through the plugin's reportResults when it has its own, else directly. */
  #publish(task: TaskInHand, result: Workitem, facts: RunFacts): Promise<void> {
    const report = this.#worker.reportResults;
    // BaseWorker's own reportResults only publishes: no need for its promise layer every task.
    if (!report || report === BaseWorker.prototype.reportResults)
      return this.#publishOne(task, result, facts);
    return this.#publishThrough(report, result, (item) => this.#publishOne(task, item, facts));
  }

  async #publishThrough(
    report: NonNullable<PluginWorker['reportResults']>,
    result: Workitem,
    publish: (item: Workitem) => Promise<void>,
  ): Promise<void> {
    await report.call(this.#worker, result, publish);
  }

  #publishOne(task: TaskInHand, item: Workitem, facts: RunFacts): Promise<void> {
    // A `catch` on the send, not an async layer around it: one promise less every result.
    return this.#sendResult(task, item, facts).catch((err: unknown) =>
      this.#notSent(task, item, facts, err),
    );
  }

  /** The result was not sent: too large, or not serializable (parked); anything else rethrown. */
  async #notSent(task: TaskInHand, item: Workitem, facts: RunFacts, err: unknown): Promise<void> {
    const { group } = this.#spec;
    if (hasCode(err, 'TQ_ERR_RESULT_TOO_LARGE')) {
      await this.#resultTooLarge(task, err as TqError, facts);
      return;
    }
    if (!hasCode(err, 'TQ_ERR_RESULT_UNSERIALIZABLE')) throw err;
    // The input stays available to the operator; the workflow gets an error it can read.
    const reason = (err as Error).message;
    task.ending = 'parked';
    await task.tools.router.park(task.message, reason, {
      [ERROR_CODE_HEADER]: 'TQ_ERR_RESULT_UNSERIALIZABLE',
    });
    task
      .log()
      .error({ queue: deadQueue(group.type), reason }, 'result unserializable; task parked');
    const fallback = shallowErrorWorkitem(item, err);
    await this.#sendResult(task, fallback, facts, Number.POSITIVE_INFINITY);
  }

  /** Publishes `item` as the result of the task; refused unsent at `refusedBytes` or above. */
  #sendResult(
    task: TaskInHand,
    item: Workitem,
    facts: RunFacts,
    refusedBytes = this.#refusedBytes,
  ): Promise<void> {
    const { group, inputQueue } = this.#spec;
    return publishResult(
      task.tools.publisher,
      group,
      inputQueue,
      task.message,
      item,
      facts,
      task.log,
      refusedBytes,
    );
  }

  /**
   * A result the broker refuses for good (larger than its max_message_size). Sent again it would
   * be refused again, and the task run again and again: its size is remembered, so that this
   * child does not send one as large again. When the broker refused it, the channel is gone and
   * the task comes back redelivered: the pool is told, and whichever child of the pool gets it
   * parks it without running it (`result-refused`). Refused here before sending, it is parked now.
   */
  async #resultTooLarge(task: TaskInHand, err: TqError, facts: RunFacts): Promise<void> {
    const bytes = Number(err.details.bytes);
    if (Number.isSafeInteger(bytes)) this.#refusedBytes = Math.min(this.#refusedBytes, bytes);
    if (err.details.byBroker) {
      this.#pool.lost([task.key], err.message, 'TQ_ERR_RESULT_TOO_LARGE');
      task
        .log()
        .error(
          { err: err.message, code: err.code, bytes },
          'result refused by the broker; the task is parked when it comes back',
        );
      throw err;
    }
    await this.#refuseResult(task, err.message, facts);
  }

  /**
   * Publishes the error result of a task whose result cannot be sent, then parks the task on
   * `worker_<type>.dead` with the reason (in that order: if the broker refuses the error result
   * too, nothing is parked yet and the task comes back once more, to a smaller error result).
   */
  async #refuseResult(task: TaskInHand, reason: string, facts: RunFacts): Promise<void> {
    const { group } = this.#spec;
    task.ending = 'parked';
    const publish = (item: Workitem) => this.#sendResult(task, item, facts);
    // The input passed parseWorkitem before its result was made; read again only on this path.
    const input = parseWorkitem(task.message.content, task.message.properties);
    try {
      await publish(errorWorkitem(input, new Error(reason)));
    } catch (err) {
      if (!hasCode(err, 'TQ_ERR_RESULT_TOO_LARGE') || (err as TqError).details.byBroker) throw err;
      await publish({ fields: {}, error: reason, trace: reason } as Workitem);
    }
    await task.tools.router.park(task.message, reason, {
      [ERROR_CODE_HEADER]: 'TQ_ERR_RESULT_TOO_LARGE',
    });
    task.log().error({ queue: deadQueue(group.type), reason }, 'result too large; task parked');
  }
}

/** Whether publishing its outcome parked the task (set behind the compiler's narrowing). */
function parkedMeanwhile(task: TaskInHand): boolean {
  return task.ending === 'parked';
}

/** An error's stable code (`TQ_ERR_*`, or a plugin's own), when it has one. */
function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
