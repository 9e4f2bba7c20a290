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
import { publishResult } from './result-route.js';
import { errorWorkitem, parseWorkitem, taskIdOf } from './workitem.js';

/** A plugin's worker as the host sees it: only handleTask is required (checked at load). */
type Worker = Pick<BaseWorker, 'handleTask'> &
  Partial<Pick<BaseWorker, 'setup' | 'teardown' | 'reportResults'>>;

/**
 * Consumes `worker_<type>` and runs each task through the plugin: parse, handleTask, publish the
 * result (or the error result), and ack only once the result is confirmed. Tasks run
 * concurrently up to the group's prefetch.
 *
 * Events: `task-done` (count), `connected`.
 */
export class WorkerRuntime extends EventEmitter {
  #spec: ChildSpec;
  #worker: Worker;
  #log: Logger;
  #connection: AmqpConnection;
  #consumer: { channel: ConfirmChannel; tag: string } | undefined;
  #running = new Map<string, AbortController>();
  #idle: (() => void) | undefined;
  #stopping = false;
  #tasksDone = 0;

  constructor(spec: ChildSpec, worker: Worker, log: Logger) {
    super();
    this.#spec = spec;
    this.#worker = worker;
    this.#log = log;
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
   * Stops taking tasks, lets the running ones finish until `deadline` (then aborts their
   * signals), runs the plugin's teardown and disconnects. Unfinished tasks stay unacked and the
   * broker redelivers them.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const consumer = this.#consumer;
    if (consumer) await consumer.channel.cancel(consumer.tag).catch(() => {});
    if (this.#running.size > 0) {
      const drained = new Promise<void>((resolve) => (this.#idle = resolve));
      const timer = setTimeout(() => {
        for (const controller of this.#running.values())
          controller.abort(new Error('worker stopping'));
      }, graceMs);
      await drained;
      clearTimeout(timer);
    }
    await this.#worker.teardown?.call(this.#worker).catch((err: unknown) => {
      this.#log.warn({ err }, 'plugin teardown failed');
    });
    await this.#connection.close();
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
    if (this.#stopping) return;
    const { consumerTag } = await channel.consume(queue, (message) => {
      if (message) void this.#run(channel, publisher, message);
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
    this.#running.set(key, controller);
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
      if (this.#connection.channel !== channel) {
        log.warn('connection lost while the task ran; the broker redelivers it');
        return;
      }
      const publish = (item: Workitem) =>
        publishResult(publisher, group, message, item, facts, log);
      if (this.#worker.reportResults)
        await this.#worker.reportResults.call(this.#worker, result, publish);
      else await publish(result);
      channel.ack(message);
      this.#tasksDone++;
      log.debug({ durationMs: facts.durationMs, error: 'error' in result }, 'task done');
      this.emit('task-done', this.#tasksDone);
    } catch (err) {
      // Publishing failed (the channel closed, or the broker refused): leave the task unacked so
      // the broker redelivers it.
      log.warn({ err: (err as Error).message }, 'result not confirmed; task left for redelivery');
    } finally {
      this.#running.delete(key);
      if (this.#running.size === 0) this.#idle?.();
    }
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
