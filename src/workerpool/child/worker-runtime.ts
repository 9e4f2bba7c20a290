import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { BaseWorker, Workitem } from '@taskqueue/plugin-api';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { AmqpConnection } from '../../common/amqp/connection.js';
import { forwardProperties } from '../../common/amqp/properties.js';
import { ConfirmedPublisher } from '../../common/amqp/publisher.js';
import {
  deadQueue,
  declareQueue,
  UNROUTABLE_RESULTS_QUEUE,
  workerQueue,
} from '../../common/amqp/queues.js';
import type { Logger } from '../../common/logger.js';
import type { ChildSpec } from '../ipc.js';
import { RecyclePolicy } from './recycle-policy.js';
import { publishResult } from './result-route.js';
import { errorWorkitem, parseWorkitem, taskIdOf } from './workitem.js';

/** A plugin's worker as the host sees it: only handleTask is required (checked at load). */
type Worker = Pick<BaseWorker, 'handleTask'> &
  Partial<Pick<BaseWorker, 'setup' | 'teardown' | 'reportResults'>>;

/** A task in the plugin's hands; `abandoned` once the stop deadline handed it back. */
interface RunningTask {
  controller: AbortController;
  channel: ConfirmChannel;
  message: ConsumeMessage;
  abandoned: boolean;
}

/**
 * Consumes `worker_<type>` and runs each task through the plugin: parse, handleTask, publish the
 * result (or the error result), and ack only once the result is confirmed. Tasks run
 * concurrently up to the group's prefetch.
 *
 * Events: `connected`; `recycle` (reason): a successor should start; `retired`: the child took
 * its last task (max_tasks_per_child, or RSS above max_memory_per_child) and finished it.
 */
export class WorkerRuntime extends EventEmitter {
  #spec: ChildSpec;
  #worker: Worker;
  #log: Logger;
  #connection: AmqpConnection;
  #consumer: { channel: ConfirmChannel; tag: string } | undefined;
  #running = new Map<string, RunningTask>();
  #idle: (() => void) | undefined;
  #stopping = false;
  #recycle: RecyclePolicy;
  #retiring = false;

  constructor(spec: ChildSpec, worker: Worker, log: Logger) {
    super();
    this.#spec = spec;
    this.#worker = worker;
    this.#log = log;
    this.#recycle = new RecyclePolicy(spec.group.maxTasksPerChild, spec.group.maxMemoryPerChild);
    this.#connection = new AmqpConnection(spec.amqp, {
      name: `taskqueue-worker-${spec.group.name}`,
      logger: log,
      setup: (channel) => this.#setup(channel),
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
   * task is handed back to the broker (nack with requeue) for another child, and its signal is
   * aborted; whatever the plugin still returns for it is dropped, never published as a failure.
   * Then runs the plugin's teardown and disconnects.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const consumer = this.#consumer;
    if (consumer) await consumer.channel.cancel(consumer.tag).catch(() => {});
    if (this.#running.size > 0) {
      const drained = new Promise<void>((resolve) => (this.#idle = resolve));
      const timer = setTimeout(() => {
        this.#abandonRunning();
        this.#idle?.();
      }, graceMs);
      await drained;
      clearTimeout(timer);
    }
    await this.#worker.teardown?.call(this.#worker).catch((err: unknown) => {
      this.#log.warn({ err }, 'plugin teardown failed');
    });
    await this.#connection.close();
  }

  #abandonRunning(): void {
    const count = this.#running.size;
    for (const task of this.#running.values()) {
      task.abandoned = true;
      try {
        task.channel.nack(task.message, false, true);
      } catch {
        // The channel is gone: the broker requeues the task by itself.
      }
      task.controller.abort(new Error('worker stopping: shutdown_timeout passed'));
    }
    this.#log.warn({ tasks: count }, 'shutdown_timeout passed; unfinished tasks handed back');
  }

  async #setup(channel: ConfirmChannel): Promise<void> {
    const { group, amqp } = this.#spec;
    const queue = workerQueue(group.type);
    await declareQueue(channel, queue, amqp.queueType);
    await declareQueue(channel, deadQueue(group.type), amqp.queueType);
    await declareQueue(channel, UNROUTABLE_RESULTS_QUEUE, amqp.queueType);
    if (group.resultsExchange === '')
      await declareQueue(channel, group.resultsRoutingKey, amqp.queueType);
    await channel.prefetch(group.prefetch);
    const publisher = new ConfirmedPublisher(channel);
    if (this.#stopping || this.#retiring) return;
    const { consumerTag } = await channel.consume(queue, (message) => {
      if (!message) return;
      const taken = this.#recycle.taken();
      if (taken.askSuccessor) this.emit('recycle', taken.askSuccessor);
      if (taken.last) this.#retire(channel, consumerTag, 'max_tasks_per_child reached');
      void this.#run(channel, publisher, message);
    });
    this.#consumer = { channel, tag: consumerTag };
    this.#log.info({ queue, prefetch: group.prefetch }, 'worker consuming');
    this.emit('connected');
  }

  async #run(
    channel: ConfirmChannel,
    publisher: ConfirmedPublisher,
    message: ConsumeMessage,
  ): Promise<void> {
    const { group } = this.#spec;
    const taskId = taskIdOf(message.properties, randomUUID);
    const key = `${message.fields.deliveryTag}:${taskId}`;
    const controller = new AbortController();
    const task: RunningTask = { controller, channel, message, abandoned: false };
    this.#running.set(key, task);
    const log = this.#log.child({
      taskId,
      messageId: message.properties.messageId,
      type: group.type,
    });
    try {
      let workitem: Workitem;
      try {
        workitem = parseWorkitem(message.content, message.properties);
      } catch (err) {
        await this.#park(publisher, message, `unreadable task: ${(err as Error).message}`, log);
        channel.ack(message);
        return;
      }
      const started = performance.now();
      const result = await this.#handle(workitem, { controller, taskId, log });
      const facts = { attempts: 1, durationMs: Math.round(performance.now() - started) };
      if (task.abandoned) {
        log.info('task handed back at shutdown; its late outcome is dropped');
        return;
      }
      if (this.#connection.channel !== channel) {
        log.warn('connection lost while the task ran; the broker redelivers it');
        return;
      }
      const publish = (item: Workitem) =>
        publishResult(publisher, group, message, item, facts, log);
      if (this.#worker.reportResults)
        await this.#worker.reportResults.call(this.#worker, result, publish);
      else await publish(result);
      // Handed back while its result was being confirmed: the broker already has it again.
      if (!task.abandoned) channel.ack(message);
      const memory = this.#recycle.finished(process.memoryUsage.rss());
      if (memory.askSuccessor) this.emit('recycle', memory.askSuccessor);
      if (memory.stopTaking && this.#consumer)
        this.#retire(this.#consumer.channel, this.#consumer.tag, memory.stopTaking);
      log.debug({ durationMs: facts.durationMs, error: 'error' in result }, 'task done');
    } catch (err) {
      // Publishing failed (the channel closed, or the broker refused): leave the task unacked so
      // the broker redelivers it.
      log.warn({ err: (err as Error).message }, 'result not confirmed; task left for redelivery');
    } finally {
      this.#running.delete(key);
      if (this.#running.size === 0) {
        this.#idle?.();
        if (this.#retiring) this.emit('retired');
      }
    }
  }

  /** Takes no more tasks: the broker gives the rest to the other children. */
  #retire(channel: ConfirmChannel, consumerTag: string, reason: string): void {
    if (this.#retiring) return;
    this.#retiring = true;
    this.#log.info({ reason }, 'taking no more tasks; retiring');
    channel.cancel(consumerTag).catch(() => {});
  }

  async #handle(
    workitem: Workitem,
    task: { controller: AbortController; taskId: string; log: Logger },
  ): Promise<Workitem> {
    const { group } = this.#spec;
    const timer =
      group.timeout === undefined
        ? undefined
        : setTimeout(
            () => task.controller.abort(new Error(`task timed out after ${group.timeout} s`)),
            group.timeout * 1000,
          );
    try {
      const returned = await this.#worker.handleTask(workitem, {
        settings: group.settings,
        logger: task.log,
        signal: task.controller.signal,
        attempt: 1,
        taskId: task.taskId,
      });
      return returned ?? workitem;
    } catch (err) {
      task.log.info({ err: (err as Error)?.message }, 'plugin failed the task');
      return errorWorkitem(workitem, err);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /** A body no plugin can read goes to the type's dead queue with the reason, never dropped. */
  async #park(
    publisher: ConfirmedPublisher,
    message: ConsumeMessage,
    reason: string,
    log: Logger,
  ): Promise<void> {
    const queue = deadQueue(this.#spec.group.type);
    const options = forwardProperties(message.properties, { 'x-taskqueue-error': reason });
    await publisher.publish('', queue, message.content, options);
    log.error({ queue, reason }, 'task parked');
  }
}
