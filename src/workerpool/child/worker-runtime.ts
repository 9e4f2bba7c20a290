import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Workitem } from '@taskqueue/plugin-api';
import { invokePlugin } from '@taskqueue/plugin-api/engine';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { AckBatcher } from '../../common/amqp/acks.js';
import { brokerVersionOf } from '../../common/amqp/broker-features.js';
import { AmqpConnection } from '../../common/amqp/connection.js';
import { bindToTypes } from '../../common/amqp/direct-path.js';
import { ConfirmedPublisher } from '../../common/amqp/publisher.js';
import {
  deadQueue,
  declare,
  declareQueue,
  declareTracking,
  UNROUTABLE_RESULTS_QUEUE,
  workerQueue,
  workerQueueDeclaration,
} from '../../common/amqp/queues.js';
import { CancelFeed } from '../../common/cancel/feed.js';
import { hasCode, TqError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { trackedIdOf } from '../../common/tracking/publish.js';
import type { ChildSpec } from '../ipc.js';
import { TIMEOUT_GRACE_MS } from '../timeouts.js';
import { taskKey } from './attempts.js';
import { Lifecycle } from './lifecycle.js';
import { type Outcome, OutcomePolicy, type PluginWorker } from './outcome.js';
import type { PoolLink } from './pool-link.js';
import { checkPriorities } from './priorities.js';
import { RateGate, type TokenRelease } from './rate-gate.js';
import { RecyclePolicy } from './recycle-policy.js';
import { scheduleCheck } from './schedule-check.js';
import type { TaskReport } from './stats-reporter.js';
import { type ChannelTools, TaskInHand } from './task.js';
import { ChildEvents } from './task-events.js';
import { TaskRouter } from './task-router.js';
import { taskIdOf } from './workitem.js';

/** Thrown by a task's wait for its turn when it will not start (#waitTurn). */
const NOT_STARTED = Symbol('not started');

/** Nobody would ask about this task: the pool has no memory of it (a child started by hand). */
const NO_POOL: PoolLink = {
  started: () => 0,
  waiting: () => 0,
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
  #worker: PluginWorker;
  #log: Logger;
  #pool: PoolLink;
  #connection: AmqpConnection;
  /** The consumer of `worker_<type>`, or of the type's tokens when it has a rate_limit. */
  #consumer: { channel: Channel; tag: string } | undefined;
  /** The current channel's acks: flushed before the connection is closed on purpose. */
  #acks: AckBatcher | undefined;
  /** Tasks in hand, by identity: no per-task key string to build and hash. */
  #running = new Set<TaskInHand>();
  #idle: (() => void) | undefined;
  #lifecycle = new Lifecycle();
  #recycle: RecyclePolicy;
  #outcome: OutcomePolicy;
  /** Lifecycle events, with [tracking] enabled only. */
  #events: ChildEvents | undefined;
  /** Counts for the pool's metrics (stats-reporter.ts); none without a pool. */
  #report: TaskReport | undefined;
  /**
   * Resolves when the broker confirmed the cancel of a retiring child's consumer: deliveries
   * sent before it may still be arriving until then, and each must be handed back before the
   * child leaves (an unacked one would come back redelivered, counted as a crash).
   */
  #cancelled: Promise<void> | undefined;
  /** The cancels of `taskqueue.cancels`, read before consuming on every connection. */
  #cancels: CancelFeed;
  /** A type with rate_limit takes a token before each task (rate-gate.ts); others: undefined. */
  #gate: RateGate | undefined;
  /** Tasks the plugin may run at once: the group's concurrency, else its prefetch. */
  #concurrency: number;
  /** Turns taken: tasks the plugin runs now, or that are checked before it would. */
  #plugins = 0;
  /** Starts of the tasks in hand waiting for their turn, first come first. */
  #turns: Array<() => void> = [];

  constructor(
    spec: ChildSpec,
    worker: PluginWorker,
    log: Logger,
    pool: PoolLink = NO_POOL,
    report?: TaskReport,
  ) {
    super();
    this.#report = report;
    this.#spec = spec;
    this.#worker = worker;
    this.#log = log;
    this.#pool = pool;
    this.#recycle = new RecyclePolicy(spec.group.maxTasksPerChild, spec.group.maxMemoryPerChild);
    this.#concurrency = spec.group.concurrency ?? spec.group.prefetch;
    if (spec.tracking) this.#events = new ChildEvents();
    this.#outcome = new OutcomePolicy(
      spec,
      worker,
      pool,
      {
        beforeAck: () => this.#checkMemory(),
        onSettled: report && ((task) => report.settled(task)),
        stopping: () => this.#lifecycle.stopping,
      },
      // Read once: the per-task debug line must not make a logger per task when it is off.
      log.isLevelEnabled('debug'),
      this.#events,
    );
    this.#cancels = new CancelFeed(log, (taskId) => this.#cancelRunning(taskId));
    if (spec.group.rateLimit !== undefined)
      this.#gate = new RateGate(spec.group, spec.amqp.queueType, log);
    this.#connection = new AmqpConnection(spec.amqp, {
      name: `taskqueue-worker-${spec.group.name}`,
      logger: log,
      setup: (channel, model) => this.#setup(channel, model),
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
    if (this.#lifecycle.stopping) return;
    this.#lifecycle.to('stopping');
    this.#gate?.close();
    const consumer = this.#consumer;
    if (consumer) await consumer.channel.cancel(consumer.tag).catch(() => {});
    await this.#gate?.drained();
    await this.#handBackWaiting();
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
    this.#cancels.closing();
    await this.#connection.close();
    this.#lifecycle.to('stopped');
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
      tasks.map((task) => {
        task.abort.abort(new Error('worker stopping: shutdown_timeout passed'));
        return this.#handBack(task);
      }),
    );
    this.#idle?.();
  }

  /**
   * At a stop, the tasks in hand that never started go back at once, for another child: only
   * the running ones get the grace of shutdown_timeout.
   */
  async #handBackWaiting(): Promise<void> {
    const tasks = [...this.#running.values()].filter((t) => t.waiting && !t.abandoned);
    if (tasks.length === 0) return;
    this.#log.info({ tasks: tasks.length }, 'stopping: tasks not started yet handed back');
    this.#pool.lost(
      tasks.map((t) => t.key),
      'handed back at shutdown, not started',
    );
    await Promise.all(tasks.map((task) => this.#handBack(task)));
  }

  /** A copy to the end of the queue and the original acked; a plain requeue if that fails. */
  async #handBack(task: TaskInHand): Promise<void> {
    task.abandoned = true;
    const { acks, router } = task.tools;
    try {
      await router.handBack(task.message);
      acks.ack(task.message);
    } catch {
      try {
        acks.nack(task.message, true);
      } catch {
        // The channel is gone: the broker requeues the task by itself.
      }
    }
  }

  async #setup(channel: ConfirmChannel, model: ChannelModel): Promise<void> {
    const { group, amqp } = this.#spec;
    // A max_priority this broker cannot honour fails the start, as a group's config refusal.
    checkPriorities(group, amqp.queueType, brokerVersionOf(model), this.#log);
    await declare(channel, workerQueueDeclaration(group.type, amqp.queueType, group.maxPriority));
    // Direct submitters' tasks reach the queue without the dispatcher (docs/direct-path.md).
    await bindToTypes(channel, group.type);
    await declareQueue(channel, deadQueue(group.type), amqp.queueType);
    await declareQueue(channel, UNROUTABLE_RESULTS_QUEUE, amqp.queueType);
    if (this.#events) await declareTracking(channel, amqp.queueType);
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
    if (!this.#lifecycle.taking) return;
    // Every cancel issued before now is known before the first task is taken.
    await this.#cancels.follow(model, channel, publisher);
    if (!this.#lifecycle.taking) return;
    if (this.#gate) await this.#gate.open(model, channel);
    await this.#consume(tools);
    if (this.#lifecycle.state === 'starting') this.#lifecycle.to('consuming');
    this.emit('connected');
  }

  /** Starts this channel's consumer of `worker_<type>`. */
  async #consume(tools: ChannelTools): Promise<void> {
    if (this.#gate) return this.#consumeTokens(this.#gate, tools);
    const { channel } = tools;
    const { group } = this.#spec;
    const queue = workerQueue(group.type);
    const { consumerTag } = await channel.consume(queue, (message) => {
      if (!message) {
        void this.#cancelledByBroker(tools);
        return;
      }
      this.#take(tools, message, channel);
    });
    this.#consumer = { channel, tag: consumerTag };
    this.#log.info({ queue, prefetch: group.prefetch }, 'worker consuming');
  }

  /** A type with rate_limit: a task is got from `worker_<type>` for each token (rate-gate.ts). */
  async #consumeTokens(gate: RateGate, tools: ChannelTools): Promise<void> {
    const { group } = this.#spec;
    this.#consumer = await gate.consume(tools, {
      taking: () => this.#lifecycle.taking,
      take: (task, channel, release) => this.#take(tools, task, channel, release),
      cancelled: () => void this.#cancelledByBroker(tools),
    });
    this.#log.info(
      { queue: workerQueue(group.type), prefetch: group.prefetch, rateLimit: group.rateLimit },
      'worker consuming, rate limited',
    );
  }

  /**
   * A task delivered, or got with a token (`release` settles the token): run, unless it came
   * after this child stopped taking tasks.
   */
  #take(
    tools: ChannelTools,
    message: ConsumeMessage,
    consumerChannel: Channel,
    release?: TokenRelease,
  ): void {
    tools.acks.received(message);
    // Sent after the cancel (retiring, or stopping once retiring began): a late delivery. A got
    // task is late also when the child began to stop while its get was on its way.
    if (this.#cancelled || (release && !this.#lifecycle.taking)) {
      release?.(true);
      void this.#handBackLate(tools, message);
      return;
    }
    const taken = this.#recycle.taken();
    if (taken.askSuccessor) this.emit('recycle', taken.askSuccessor);
    // The delivery's own tag: the first one may arrive before consume() has resolved.
    if (taken.last)
      this.#retire('max_tasks_per_child reached', {
        channel: consumerChannel,
        tag: message.fields.consumerTag,
      });
    void this.#run(tools, message, release);
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
    if (!this.#lifecycle.taking || tools.closed) return;
    this.#log.warn(
      { queue, code: 'TQ_ERR_AMQP_CONSUMER_CANCELLED' },
      'consumer cancelled by the broker; consuming again',
    );
    try {
      await declare(channel, workerQueueDeclaration(group.type, amqp.queueType, group.maxPriority));
      // A queue deleted and declared again lost its bindings.
      await bindToTypes(channel, group.type);
      await declareQueue(channel, deadQueue(group.type), amqp.queueType);
      if (!this.#lifecycle.taking) return;
      await this.#consume(tools);
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'consuming again failed; reconnecting');
      await channel.close().catch(() => {});
    }
  }

  async #run(tools: ChannelTools, message: ConsumeMessage, release?: TokenRelease): Promise<void> {
    const task = this.#taskOf(tools, message);
    this.#running.add(task);
    this.#report?.taken(task);
    let slot: number | undefined;
    try {
      slot = this.#takeTurn(task) ?? (await this.#waitTurn(task));
      let outcome: Outcome;
      try {
        outcome = await this.#attempt(task);
      } finally {
        // The plugin is done with it: the next task in hand starts while this one's result is
        // confirmed and acked, which is what a second task in hand is for.
        this.#passTurn();
      }
      await this.#outcome.settle(task, outcome);
    } catch (err) {
      // Handed back or its connection lost while it waited: never started, nothing to settle.
      if (err !== NOT_STARTED) throw err;
    } finally {
      if (slot !== undefined) this.#pool.finished(slot);
      release?.(false);
      this.#done(task);
    }
  }

  /**
   * A turn for the plugin now, if one is free (`concurrency`, default the prefetch): its slot in
   * the pool's ledger, written as held. Not async: most tasks never wait, and pay no promise.
   */
  #takeTurn(task: TaskInHand): number | undefined {
    if (this.#plugins >= this.#concurrency) return undefined;
    this.#plugins++;
    return this.#pool.started(task.key);
  }

  /**
   * Waits for a turn, the task written as waiting meanwhile; returns its slot, written as held.
   * Throws NOT_STARTED, the slot settled, when it was handed back or its channel closed.
   */
  async #waitTurn(task: TaskInHand): Promise<number> {
    const slot = this.#pool.waiting(task.key);
    task.waiting = true;
    await new Promise<void>((resolve) => this.#turns.push(resolve));
    task.waiting = false;
    if (task.abandoned || task.tools.closed) {
      this.#pool.finished(slot);
      this.#passTurn();
      throw NOT_STARTED;
    }
    return this.#pool.started(task.key, slot);
  }

  /**
   * A turn ends: it goes to the first task waiting, handed over as it is (no count that a new
   * delivery could take in between), or it is free.
   */
  #passTurn(): void {
    const next = this.#turns.shift();
    if (next) next();
    else this.#plugins--;
  }

  /** Runs the task through the plugin, unless what is known of it says otherwise. */
  async #attempt(task: TaskInHand): Promise<Outcome> {
    const { group } = this.#spec;
    const { message } = task;
    const verdict = message.fields.redelivered ? await this.#pool.verdict(task.key) : undefined;
    let workitem: Workitem;
    try {
      workitem = task.parse(group.maxBodySize);
    } catch (error) {
      return { kind: 'unreadable', error };
    }
    if (verdict?.kind === 'lost' && hasCode(verdict, 'TQ_ERR_RESULT_TOO_LARGE'))
      return { kind: 'result-refused', cause: verdict.cause };
    // Before a crash is counted: a cancelled task is not run again, whatever befell it.
    if (task.cancelRequested || this.#cancels.cancelled(trackedIdOf(message.properties)))
      return { kind: 'cancelled', ran: false };
    // Past its deadline, or before its time: not run now (schedule-check.ts).
    const schedule = scheduleCheck(message.properties);
    if (schedule !== undefined) return schedule;
    if (message.fields.redelivered && verdict?.kind !== 'lost')
      return { kind: 'consumer-died', verdict };
    this.#events?.started(task);
    task.startClock();
    const outcome = await invokePlugin(this.#worker, workitem, {
      settings: group.settings,
      logger: task.log,
      abort: task.abort,
      attempt: task.attempt,
      taskId: task.taskId,
      timeoutS: group.timeout,
      graceMs: TIMEOUT_GRACE_MS,
    });
    task.stopClock();
    if (task.abandoned) return { kind: 'dropped', why: 'handed-back' };
    if (task.tools.closed) return { kind: 'dropped', why: 'connection-lost' };
    if (outcome.kind === 'hung') {
      // The plugin ignores its signal: whatever it still does, this child is not to be trusted
      // with more tasks. The successor starts first; this one leaves once the others finish.
      this.emit('recycle', `a task ran past timeout + ${TIMEOUT_GRACE_MS} ms`);
      this.#retire('a task hung past its timeout');
    }
    // Its signal was aborted by a cancel and it let go: cancelled, not failed, never retried.
    if (task.cancelRequested && outcome.kind !== 'result') return { kind: 'cancelled', ran: true };
    return outcome;
  }

  /** A cancel read while its task is in hand: the plugin's signal is aborted (ctx.signal). */
  #cancelRunning(taskId: string): void {
    for (const task of this.#running) {
      if (task.abandoned || task.cancelRequested) continue;
      if (trackedIdOf(task.message.properties) !== taskId) continue;
      task.cancelRequested = true;
      task
        .log()
        .info({ code: 'TQ_ERR_TASK_CANCELLED' }, 'task cancelled while in hand; signal aborted');
      task.abort.abort(new TqError('TQ_ERR_TASK_CANCELLED', 'task cancelled'));
    }
  }

  /**
   * Before the ack of a task the plugin ran: the cancel must reach the broker first, or the ack
   * frees the prefetch slot and the next task is on its way to a child already over its limit.
   * Reading RSS costs a syscall and a /proc parse: only when a limit asks for it.
   */
  #checkMemory(): void {
    if (this.#recycle.maxMemoryMiB === undefined) return;
    const memory = this.#recycle.finished(process.memoryUsage.rss());
    if (memory.askSuccessor) this.emit('recycle', memory.askSuccessor);
    if (memory.stopTaking) this.#retire(memory.stopTaking);
  }

  #taskOf(tools: ChannelTools, message: ConsumeMessage): TaskInHand {
    const { type } = this.#spec.group;
    return new TaskInHand(
      tools,
      message,
      {
        key: taskKey(type, message.properties, message.content),
        taskId: taskIdOf(message.properties, randomUUID),
        type,
      },
      this.#log,
    );
  }

  #done(task: TaskInHand): void {
    this.#running.delete(task);
    if (this.#running.size === 0) {
      this.#idle?.();
      this.#maybeRetired();
    }
  }

  /** Retired once the consumer is cancelled for sure and nothing is left in hand. */
  #maybeRetired(): void {
    const cancelled = this.#cancelled;
    if (!cancelled || this.#lifecycle.state !== 'retiring') return;
    void cancelled.then(() => {
      if (this.#running.size > 0 || this.#lifecycle.state !== 'retiring') return;
      this.#lifecycle.to('retired');
      this.emit('retired');
    });
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
    const task = this.#taskOf(tools, message);
    task.abandoned = true;
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
    // Once stopping, the stop's own cancel already took the consumer away.
    if (!this.#lifecycle.taking) return;
    this.#lifecycle.to('retiring');
    this.#log.info({ reason }, 'taking no more tasks; retiring');
    this.#gate?.stopMinting();
    // A closed channel cancels its consumer too: either way no more deliveries come.
    this.#cancelled = consumer
      ? consumer.channel.cancel(consumer.tag).then(
          () => {},
          () => {},
        )
      : Promise.resolve();
    // A task got with a token may still be on its way: held (handed back) before the count.
    const gate = this.#gate;
    if (gate) this.#cancelled = this.#cancelled.then(() => gate.drained());
    this.#maybeRetired();
  }
}
