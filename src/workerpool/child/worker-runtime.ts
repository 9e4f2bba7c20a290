import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { BaseWorker, type Workitem } from '@taskqueue/plugin-api';
import {
  errorWorkitem,
  type Invocation,
  invokePlugin,
  LazyAbort,
  retryDecision,
  shallowErrorWorkitem,
} from '@taskqueue/plugin-api/engine';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { AckBatcher } from '../../common/amqp/acks.js';
import { AmqpConnection } from '../../common/amqp/connection.js';
import { ConfirmedPublisher } from '../../common/amqp/publisher.js';
import {
  deadQueue,
  declare,
  declareQueue,
  UNROUTABLE_RESULTS_QUEUE,
  workerQueue,
  workerQueueDeclaration,
} from '../../common/amqp/queues.js';
import { ERROR_CODE_HEADER } from '../../common/amqp/reason-headers.js';
import { REQUEUE_PAUSE_MS, requeueAfterPause } from '../../common/amqp/requeue.js';
import { hasCode, type TqError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { ChildSpec, Verdict } from '../ipc.js';
import { TIMEOUT_GRACE_MS } from '../timeouts.js';
import { attemptOf, CRASH_LOG_HEADER, CRASHES_HEADER, crashesOf, taskKey } from './attempts.js';
import type { PoolLink } from './pool-link.js';
import { RecyclePolicy } from './recycle-policy.js';
import { publishResult, type RunFacts } from './result-route.js';
import { checkTaskBody } from './task-body.js';
import { TaskRouter } from './task-router.js';
import { parseWorkitem, taskIdOf } from './workitem.js';

/** A plugin's worker as the host sees it: only handleTask is required (checked at load). */
type Worker = Pick<BaseWorker, 'handleTask'> &
  Partial<Pick<BaseWorker, 'setup' | 'teardown' | 'reportResults'>>;

/** A task in the plugin's hands; `abandoned` once the stop deadline handed it back. */
interface RunningTask {
  key: string;
  abort: LazyAbort;
  acks: AckBatcher;
  router: TaskRouter;
  message: ConsumeMessage;
  abandoned: boolean;
}

/** What one channel's tasks publish with. */
interface ChannelTools {
  channel: ConfirmChannel;
  /** Every ack and nack of this channel's deliveries. */
  acks: AckBatcher;
  publisher: ConfirmedPublisher;
  router: TaskRouter;
  /**
   * Set when the channel closes. Not `connection.channel !== channel`: that is set only once
   * setup has returned, and a quick task delivered before then would be taken for one whose
   * connection was lost, and held unacked for good.
   */
  closed: boolean;
}

/** Nobody would ask about this task: the pool has no memory of it (a child started by hand). */
const NO_POOL: PoolLink = {
  started: () => 0,
  finished: () => {},
  lost: () => {},
  verdict: async () => undefined,
};

/**
 * Consumes `worker_<type>` and runs each task through the plugin: parse, handleTask, publish the
 * result (or the error result), and ack only once the result is confirmed. Tasks run
 * concurrently up to the group's prefetch. A failed task is retried through the broker
 * (max_attempts, retry_delay); a task whose consumer died comes back with the crash counted, and
 * after max_crashes it is poison: parked on `worker_<type>.dead` with an error result.
 *
 * Events: `connected`; `recycle` (reason): a successor should start; `retired`: the child took
 * its last task (max_tasks_per_child, RSS above max_memory_per_child, a task hung past its
 * timeout) and finished the others.
 */
export class WorkerRuntime extends EventEmitter {
  #spec: ChildSpec;
  #worker: Worker;
  #log: Logger;
  #pool: PoolLink;
  #connection: AmqpConnection;
  #consumer: { channel: ConfirmChannel; tag: string } | undefined;
  /** The current channel's acks: flushed before the connection is closed on purpose. */
  #acks: AckBatcher | undefined;
  /** Tasks in hand, by identity: no per-task key string to build and hash. */
  #running = new Set<RunningTask>();
  #idle: (() => void) | undefined;
  #stopping = false;
  #recycle: RecyclePolicy;
  #retiring = false;
  /** Read once: the per-task debug line must not make a logger per task when it is off. */
  #debug: boolean;
  /**
   * Resolves when the broker confirmed the cancel of a retiring child's consumer: deliveries
   * sent before it may still be arriving until then, and each must be handed back before the
   * child leaves (an unacked one would come back redelivered, counted as a crash).
   */
  #cancelled: Promise<void> | undefined;
  #retiredSent = false;
  /** The size of the smallest result the broker refused: one as large is not sent again. */
  #refusedBytes = Number.POSITIVE_INFINITY;

  constructor(spec: ChildSpec, worker: Worker, log: Logger, pool: PoolLink = NO_POOL) {
    super();
    this.#spec = spec;
    this.#worker = worker;
    this.#log = log;
    this.#debug = log.isLevelEnabled('debug');
    this.#pool = pool;
    this.#recycle = new RecyclePolicy(spec.group.maxTasksPerChild, spec.group.maxMemoryPerChild);
    this.#connection = new AmqpConnection(spec.amqp, {
      name: `taskqueue-worker-${spec.group.name}`,
      logger: log,
      setup: (channel) => this.#setup(channel),
    });
    // The broker takes back what this child held: tell the pool it was not the tasks' doing, so
    // that their redelivery does not count as a crash.
    this.#connection.on('disconnected', () => {
      const keys = [...this.#running.values()].filter((t) => !t.abandoned).map((t) => t.key);
      this.#pool.lost(keys, 'the child lost its broker connection');
    });
  }

  get connection(): AmqpConnection {
    return this.#connection;
  }

  async start(): Promise<void> {
    await this.#connection.start();
  }

  /**
   * Stops taking tasks and lets the running ones finish for `graceMs`. Past that, each unfinished
   * task is handed back to the broker for another child, and its signal is aborted; whatever
   * the plugin still returns for it is dropped, never published as a failure. Then runs the
   * plugin's teardown and disconnects.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const consumer = this.#consumer;
    if (consumer) await consumer.channel.cancel(consumer.tag).catch(() => {});
    if (this.#running.size > 0) {
      const drained = new Promise<void>((resolve) => (this.#idle = resolve));
      let abandoning: Promise<void> | undefined;
      const timer = setTimeout(() => {
        abandoning = this.#abandonRunning();
      }, graceMs);
      await drained;
      clearTimeout(timer);
      // An aborted plugin may return at once, before its task's copy is confirmed: the
      // connection must stay up until the copy is in the broker and the original acked.
      await abandoning;
    }
    await this.#worker.teardown?.call(this.#worker).catch((err: unknown) => {
      this.#log.warn({ err }, 'plugin teardown failed');
    });
    this.#acks?.flush();
    await this.#connection.close();
  }

  /**
   * Hands the unfinished tasks back: a copy with the same headers goes to the end of the queue
   * and the original is acked, so that the copy does not come back flagged as redelivered (which
   * any pool, on any host, would count as a crash). If that fails, a plain requeue.
   */
  async #abandonRunning(): Promise<void> {
    const tasks = [...this.#running.values()].filter((t) => !t.abandoned);
    this.#log.warn(
      { tasks: tasks.length },
      'shutdown_timeout passed; unfinished tasks handed back',
    );
    this.#pool.lost(
      tasks.map((t) => t.key),
      'handed back at shutdown',
    );
    await Promise.all(
      tasks.map(async (task) => {
        task.abandoned = true;
        task.abort.abort(new Error('worker stopping: shutdown_timeout passed'));
        try {
          await task.router.handBack(task.message);
          task.acks.ack(task.message);
        } catch {
          try {
            task.acks.nack(task.message, true);
          } catch {
            // The channel is gone: the broker requeues the task by itself.
          }
        }
      }),
    );
    this.#idle?.();
  }

  async #setup(channel: ConfirmChannel): Promise<void> {
    const { group, amqp } = this.#spec;
    await declare(channel, workerQueueDeclaration(group.type, amqp.queueType));
    await declareQueue(channel, deadQueue(group.type), amqp.queueType);
    await declareQueue(channel, UNROUTABLE_RESULTS_QUEUE, amqp.queueType);
    if (group.resultsExchange === '')
      await declareQueue(channel, group.resultsRoutingKey, amqp.queueType);
    await channel.prefetch(group.prefetch);
    const publisher = new ConfirmedPublisher(channel);
    const acks = new AckBatcher(channel);
    this.#acks = acks;
    const tools: ChannelTools = {
      channel,
      acks,
      publisher,
      router: new TaskRouter(channel, publisher, group.type, amqp.queueType),
      closed: false,
    };
    channel.once('close', () => {
      tools.closed = true;
    });
    if (this.#stopping || this.#retiring) return;
    await this.#consume(tools);
    this.emit('connected');
  }

  /** Starts this channel's consumer of `worker_<type>`. */
  async #consume(tools: ChannelTools): Promise<void> {
    const { channel, acks } = tools;
    const { group } = this.#spec;
    const queue = workerQueue(group.type);
    const { consumerTag } = await channel.consume(queue, (message) => {
      if (!message) {
        void this.#cancelledByBroker(tools);
        return;
      }
      acks.received(message);
      if (this.#retiring) {
        void this.#handBackLate(tools, message);
        return;
      }
      const taken = this.#recycle.taken();
      if (taken.askSuccessor) this.emit('recycle', taken.askSuccessor);
      // The delivery's own tag: the first one may arrive before consume() has resolved.
      if (taken.last)
        this.#retire('max_tasks_per_child reached', { channel, tag: message.fields.consumerTag });
      void this.#run(tools, message);
    });
    this.#consumer = { channel, tag: consumerTag };
    this.#log.info({ queue, prefetch: group.prefetch }, 'worker consuming');
  }

  /**
   * The broker cancelled the consumer (its queue was deleted, say): without a consumer this child
   * would stay `running` and idle while tasks pile up. The queue is declared again and consumed
   * again on the same channel, so that tasks in hand can still be acked; if that fails, the
   * channel is closed and the connection's setup starts over on a fresh one.
   */
  async #cancelledByBroker(tools: ChannelTools): Promise<void> {
    const { channel } = tools;
    const { group, amqp } = this.#spec;
    const queue = workerQueue(group.type);
    if (this.#stopping || this.#retiring || tools.closed) return;
    this.#log.warn(
      { queue, code: 'TQ_ERR_AMQP_CONSUMER_CANCELLED' },
      'consumer cancelled by the broker; consuming again',
    );
    try {
      await declare(channel, workerQueueDeclaration(group.type, amqp.queueType));
      await declareQueue(channel, deadQueue(group.type), amqp.queueType);
      if (this.#stopping || this.#retiring) return;
      await this.#consume(tools);
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'consuming again failed; reconnecting');
      await channel.close().catch(() => {});
    }
  }

  async #run(tools: ChannelTools, message: ConsumeMessage): Promise<void> {
    const { group } = this.#spec;
    const { acks, router } = tools;
    const key = taskKey(group.type, message.properties, message.content);
    const taskId = taskIdOf(message.properties, randomUUID);
    const abort = new LazyAbort();
    const task: RunningTask = { key, abort, acks, router, message, abandoned: false };
    this.#running.add(task);
    const attempt = attemptOf(message.properties);
    // Made when first used: most tasks log nothing, and a child logger costs more than the ack.
    let taskLog: Logger | undefined;
    const log = (): Logger =>
      (taskLog ??= this.#log.child({
        taskId,
        messageId: message.properties.messageId,
        type: group.type,
        attempt,
      }));
    const slot = this.#pool.started(key);
    try {
      const verdict = message.fields.redelivered ? await this.#pool.verdict(key) : undefined;
      let workitem: Workitem;
      try {
        checkTaskBody(message.content, group.maxBodySize);
        workitem = parseWorkitem(message.content, message.properties);
      } catch (err) {
        await this.#refuseUnreadable(tools, message, err, attempt, log);
        acks.ack(message);
        return;
      }
      if (verdict?.kind === 'lost' && verdict.code === 'TQ_ERR_RESULT_TOO_LARGE') {
        // Its result was refused by the broker: running it again would make the same result.
        await this.#refuseResult(
          tools,
          message,
          verdict.cause,
          { attempts: attempt, durationMs: 0 },
          log,
        );
        acks.ack(message);
        return;
      }
      if (message.fields.redelivered && verdict?.kind !== 'lost') {
        await this.#afterLostConsumer(tools, message, workitem, verdict, attempt, log);
        acks.ack(message);
        return;
      }
      // Not performance.now(): the global's first use loads perf_hooks and eight internal
      // modules (0.2 MiB resident) into every child, for two clock readings a task.
      const started = process.hrtime.bigint();
      const outcome = await invokePlugin(this.#worker, workitem, {
        settings: group.settings,
        logger: log,
        abort,
        attempt,
        taskId,
        timeoutS: group.timeout,
        graceMs: TIMEOUT_GRACE_MS,
      });
      const durationMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
      if (task.abandoned) {
        log().info('task handed back at shutdown; its late outcome is dropped');
        return;
      }
      if (tools.closed) {
        log().warn('connection lost while the task ran; the broker redelivers it');
        return;
      }
      if (outcome.kind === 'hung') {
        // The plugin ignores its signal: whatever it still does, this child is not to be trusted
        // with more tasks. The successor starts first; this one leaves once the others finish.
        this.emit('recycle', `a task ran past timeout + ${TIMEOUT_GRACE_MS} ms`);
        this.#retire('a task hung past its timeout');
      }
      if (outcome.kind === 'result') {
        await this.#publish(
          tools,
          message,
          outcome.workitem,
          { attempts: attempt, durationMs },
          log,
        );
      } else {
        await this.#failAttempt(tools, message, workitem, outcome, attempt, durationMs, log);
      }
      // Before the ack: the cancel must reach the broker first, or the ack frees the prefetch
      // slot and the next task is on its way to a child already over its limit. Reading RSS
      // costs a syscall and a /proc parse: only when a limit asks for it.
      if (this.#recycle.maxMemoryMiB !== undefined) {
        const memory = this.#recycle.finished(process.memoryUsage.rss());
        if (memory.askSuccessor) this.emit('recycle', memory.askSuccessor);
        if (memory.stopTaking) this.#retire(memory.stopTaking);
      }
      // Handed back while its result was being confirmed: the broker already has it again.
      if (!task.abandoned) acks.ack(message);
      if (this.#debug) log().debug({ durationMs, outcome: outcome.kind }, 'task done');
    } catch (err) {
      // Publishing failed. The pool is told first, so that the redelivery is not taken for a
      // crash of this task (a refused result told it already, with what to do).
      if (!hasCode(err, 'TQ_ERR_RESULT_TOO_LARGE'))
        this.#pool.lost([key], 'its outcome was not confirmed');
      if (hasCode(err, 'TQ_ERR_AMQP_CHANNEL_CLOSED') || tools.closed) {
        log().warn({ err: (err as Error).message }, 'outcome not confirmed; the broker redelivers');
      } else {
        // Refused by the broker (a full queue, say): handed back after a pause, never held
        // forever by this child, never asked for again in a hot loop.
        log().error({ err: (err as Error).message }, 'outcome refused; task requeued');
        await requeueAfterPause(acks, message, this.#stopping ? 0 : REQUEUE_PAUSE_MS);
      }
    } finally {
      this.#pool.finished(slot);
      this.#done(task);
    }
  }

  #done(task: RunningTask): void {
    this.#running.delete(task);
    if (this.#running.size === 0) {
      this.#idle?.();
      this.#maybeRetired();
    }
  }

  /** Retired once the consumer is cancelled for sure and nothing is left in hand. */
  #maybeRetired(): void {
    if (!this.#cancelled || this.#retiredSent) return;
    void this.#cancelled.then(() => {
      if (this.#running.size > 0 || this.#retiredSent) return;
      this.#retiredSent = true;
      this.emit('retired');
    });
  }

  /**
   * A task that comes back redelivered, and not because its consumer let go of it: its
   * consumer died. A consumer killed for a timeout failed an attempt; any other death counts as
   * a crash, carried in the message's headers so that every pool on every host counts the same.
   */
  async #afterLostConsumer(
    tools: ChannelTools,
    message: ConsumeMessage,
    workitem: Workitem,
    verdict: Verdict | undefined,
    attempt: number,
    log: () => Logger,
  ): Promise<void> {
    const { group } = this.#spec;
    if (verdict?.kind === 'timeout') {
      const failure = { kind: 'timeout' as const, error: new Error(verdict.cause) };
      await this.#failAttempt(tools, message, workitem, failure, attempt, 0, log);
      return;
    }
    const cause = verdict?.cause ?? 'its consumer went away (on another host, or its connection)';
    const previous = crashesOf(message.properties);
    const crashes = previous.count + 1;
    const crashLog = [...previous.log, `${new Date().toISOString()} ${cause}`];
    if (crashes < group.maxCrashes) {
      await tools.router.requeueAfterCrash(message, crashes, crashLog);
      log().warn({ crashes, maxCrashes: group.maxCrashes, cause }, 'consumer died with the task');
      return;
    }
    const reason = `poison: ${crashes} consumers died running this task (max_crashes ${group.maxCrashes})`;
    await tools.router.park(message, reason, {
      [CRASHES_HEADER]: crashes,
      [CRASH_LOG_HEADER]: crashLog,
    });
    const error = new Error(`${reason}: ${crashLog.join('; ')}`);
    await this.#publish(
      tools,
      message,
      errorWorkitem(workitem, error),
      { attempts: attempt, durationMs: 0 },
      log,
    );
    log().error({ queue: deadQueue(group.type), crashes, crashLog }, 'poison task parked');
  }

  /**
   * A task the plugin never sees (too large, not UTF-8, not a JSON object): parked on
   * `worker_<type>.dead` as it came, with the reason and its code in headers, and an error result
   * saying so, so that whoever waits for it is not left waiting.
   */
  async #refuseUnreadable(
    tools: ChannelTools,
    message: ConsumeMessage,
    err: unknown,
    attempt: number,
    log: () => Logger,
  ): Promise<void> {
    const { group } = this.#spec;
    const code = (err as { code?: unknown }).code;
    const reason = `unreadable task: ${(err as Error).message}`;
    await tools.router.park(message, reason, {
      [ERROR_CODE_HEADER]: typeof code === 'string' ? code : 'TQ_ERR_TASK_UNREADABLE',
    });
    log().error({ queue: deadQueue(group.type), reason, code }, 'task parked');
    await this.#publishOne(
      tools,
      message,
      { fields: {}, error: reason, trace: reason } as Workitem,
      { attempts: attempt, durationMs: 0 },
      log,
    );
  }

  /** A failed attempt: retried through the broker while attempts remain, else the error result. */
  async #failAttempt(
    tools: ChannelTools,
    message: ConsumeMessage,
    workitem: Workitem,
    failure: Exclude<Invocation, { kind: 'result' }>,
    attempt: number,
    durationMs: number,
    log: () => Logger,
  ): Promise<void> {
    const { group } = this.#spec;
    const text = describeError(failure.error);
    const { retryable, retry } = retryDecision(failure.error, attempt, group.maxAttempts);
    if (retry) {
      const delayMs = await tools.router.retry(message, group.retryDelay, attempt + 1, text);
      log().info({ err: text, nextAttempt: attempt + 1, delayMs }, 'task failed; retry scheduled');
      return;
    }
    log().info({ err: text, outcome: failure.kind, retryable }, 'task failed');
    const result = errorWorkitem(workitem, failure.error);
    await this.#publish(tools, message, result, { attempts: attempt, durationMs }, log);
  }

  /** The result goes out through the plugin's reportResults when it has its own, else directly. */
  #publish(
    tools: ChannelTools,
    message: ConsumeMessage,
    result: Workitem,
    facts: RunFacts,
    log: () => Logger,
  ): Promise<void> {
    const report = this.#worker.reportResults;
    // BaseWorker's own reportResults only publishes: no need for its promise layer every task.
    if (!report || report === BaseWorker.prototype.reportResults)
      return this.#publishOne(tools, message, result, facts, log);
    return this.#publishThrough(report, result, (item) =>
      this.#publishOne(tools, message, item, facts, log),
    );
  }

  async #publishThrough(
    report: NonNullable<Worker['reportResults']>,
    result: Workitem,
    publish: (item: Workitem) => Promise<void>,
  ): Promise<void> {
    await report.call(this.#worker, result, publish);
  }

  async #publishOne(
    tools: ChannelTools,
    message: ConsumeMessage,
    item: Workitem,
    facts: RunFacts,
    log: () => Logger,
  ): Promise<void> {
    const { group } = this.#spec;
    try {
      await this.#sendResult(tools, message, item, facts, log);
    } catch (err) {
      if (hasCode(err, 'TQ_ERR_RESULT_TOO_LARGE')) {
        await this.#resultTooLarge(tools, message, err as TqError, facts, log);
        return;
      }
      if (!hasCode(err, 'TQ_ERR_RESULT_UNSERIALIZABLE')) throw err;
      // The input stays available to the operator; the workflow gets an error it can read.
      const reason = (err as Error).message;
      await tools.router.park(message, reason);
      log().error({ queue: deadQueue(group.type), reason }, 'result unserializable; task parked');
      const fallback = shallowErrorWorkitem(item, err);
      await this.#sendResult(tools, message, fallback, facts, log, Number.POSITIVE_INFINITY);
    }
  }

  /** Publishes `item` as the result of `message`; refused unsent at `refusedBytes` or above. */
  #sendResult(
    tools: ChannelTools,
    message: ConsumeMessage,
    item: Workitem,
    facts: RunFacts,
    log: () => Logger,
    refusedBytes = this.#refusedBytes,
  ): Promise<void> {
    const { group, inputQueue } = this.#spec;
    return publishResult(
      tools.publisher,
      group,
      inputQueue,
      message,
      item,
      facts,
      log,
      refusedBytes,
    );
  }

  /**
   * A result the broker refuses for good (larger than its max_message_size). Sent again it would
   * be refused again, and the task run again and again: its size is remembered, so that this
   * child does not send one as large again. When the broker refused it, the channel is gone and
   * the task comes back redelivered: the pool is told, and whichever child of the pool gets it
   * parks it without running it (#run). Refused here before sending, it is parked now.
   */
  async #resultTooLarge(
    tools: ChannelTools,
    message: ConsumeMessage,
    err: TqError,
    facts: RunFacts,
    log: () => Logger,
  ): Promise<void> {
    const bytes = Number(err.details.bytes);
    if (Number.isSafeInteger(bytes)) this.#refusedBytes = Math.min(this.#refusedBytes, bytes);
    if (err.details.byBroker) {
      const key = taskKey(this.#spec.group.type, message.properties, message.content);
      this.#pool.lost([key], err.message, 'TQ_ERR_RESULT_TOO_LARGE');
      log().error(
        { err: err.message, code: err.code, bytes },
        'result refused by the broker; the task is parked when it comes back',
      );
      throw err;
    }
    await this.#refuseResult(tools, message, err.message, facts, log);
  }

  /**
   * Publishes the error result of a task whose result cannot be sent, then parks the task on
   * `worker_<type>.dead` with the reason (in that order: if the broker refuses the error result
   * too, nothing is parked yet and the task comes back once more, to a smaller error result).
   */
  async #refuseResult(
    tools: ChannelTools,
    message: ConsumeMessage,
    reason: string,
    facts: RunFacts,
    log: () => Logger,
  ): Promise<void> {
    const { group } = this.#spec;
    const publish = (item: Workitem) => this.#sendResult(tools, message, item, facts, log);
    // The input passed parseWorkitem before its result was made; read again only on this path.
    const input = parseWorkitem(message.content, message.properties);
    try {
      await publish(errorWorkitem(input, new Error(reason)));
    } catch (err) {
      if (!hasCode(err, 'TQ_ERR_RESULT_TOO_LARGE') || (err as TqError).details.byBroker) throw err;
      await publish({ fields: {}, error: reason, trace: reason } as Workitem);
    }
    await tools.router.park(message, reason, { [ERROR_CODE_HEADER]: 'TQ_ERR_RESULT_TOO_LARGE' });
    log().error({ queue: deadQueue(group.type), reason }, 'result too large; task parked');
  }

  /**
   * A delivery that was on its way when this child retired: it goes back to the queue untouched,
   * for a child that may take it. A redelivered one is requeued as it is, so that the verdict on
   * its last holder is still there for the next child to ask about.
   */
  async #handBackLate(tools: ChannelTools, message: ConsumeMessage): Promise<void> {
    const { acks, router } = tools;
    // Held until it is back in the broker, so that the child does not leave before; `abandoned`
    // from the start, since it is nobody's task to hand back again at shutdown.
    const key = taskKey(this.#spec.group.type, message.properties, message.content);
    const task: RunningTask = {
      key,
      abort: new LazyAbort(),
      acks,
      router,
      message,
      abandoned: true,
    };
    this.#running.add(task);
    try {
      if (!message.fields.redelivered) {
        await router.handBack(message);
        acks.ack(message);
      } else acks.nack(message, true);
      this.#log.info({ messageId: message.properties.messageId }, 'retiring: task handed back');
    } catch {
      try {
        acks.nack(message, true);
      } catch {
        // The channel is gone: the broker requeues the task by itself.
      }
    } finally {
      this.#done(task);
    }
  }

  /** Takes no more tasks: the broker gives the rest to the other children. */
  #retire(reason: string, consumer = this.#consumer): void {
    if (this.#retiring) return;
    this.#retiring = true;
    this.#log.info({ reason }, 'taking no more tasks; retiring');
    // A closed channel cancels its consumer too: either way no more deliveries come.
    this.#cancelled = consumer
      ? consumer.channel.cancel(consumer.tag).then(
          () => {},
          () => {},
        )
      : Promise.resolve();
    this.#maybeRetired();
  }
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
