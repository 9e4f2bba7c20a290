import type { Workitem } from '@taskqueue/plugin-api';
import { LazyAbort } from '@taskqueue/plugin-api/engine';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { AckBatcher } from '../../common/amqp/acks.js';
import type { ConfirmedPublisher } from '../../common/amqp/publisher.js';
import type { Logger } from '../../common/logger.js';
import type { TaskOutcome } from '../task-stats.js';
import { attemptOf } from './attempts.js';
import { checkTaskBody } from './task-body.js';
import type { TaskRouter } from './task-router.js';
import { parseWorkitem } from './workitem.js';

/** What one channel's tasks publish and settle with. */
export interface ChannelTools {
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

/**
 * One task in this child's hands, from its delivery to its ack (BullMQ's `Job`): the message and
 * the channel it came on, its identity in the pool's ledger, its attempt, its workitem once
 * parsed, how long the plugin took, and its logger. `abandoned` once the stop deadline handed it
 * back: whatever the plugin still returns for it is dropped.
 */
export class TaskInHand {
  readonly message: ConsumeMessage;
  readonly tools: ChannelTools;
  /** Its key in the pool's ledger (attempts.ts `taskKey`). */
  readonly key: string;
  readonly taskId: string;
  readonly attempt: number;
  readonly type: string;
  readonly abort = new LazyAbort();
  abandoned = false;
  /** Held, not started: it waits for the plugin to be free (`concurrency`). */
  waiting = false;
  /** Its cancel was read while it was in hand (cancel/feed.ts): its signal was aborted. */
  cancelRequested = false;
  /** How long the plugin took; 0 for a task it never saw. */
  durationMs = 0;
  /** How it ended, for the metrics: set by OutcomePolicy where its fate is decided. */
  ending: TaskOutcome = 'returned';
  #workitem: Workitem | undefined;
  #parentLog: Logger;
  #log: Logger | undefined;
  #started: bigint | undefined;

  constructor(
    tools: ChannelTools,
    message: ConsumeMessage,
    ids: { key: string; taskId: string; type: string },
    log: Logger,
  ) {
    this.tools = tools;
    this.message = message;
    this.key = ids.key;
    this.taskId = ids.taskId;
    this.type = ids.type;
    this.attempt = attemptOf(message.properties);
    this.#parentLog = log;
  }

  /**
   * The task's logger, made when first used: most tasks log nothing, and a child logger costs
   * more than the ack.
   */
  log = (): Logger =>
    (this.#log ??= this.#parentLog.child({
      taskId: this.taskId,
      messageId: this.message.properties.messageId,
      type: this.type,
      attempt: this.attempt,
    }));

  /** Checks and parses the body (throws what checkTaskBody or parseWorkitem throw). */
  parse(maxBodySize: number): Workitem {
    checkTaskBody(this.message.content, maxBodySize);
    this.#workitem = parseWorkitem(this.message.content, this.message.properties);
    return this.#workitem;
  }

  /** The workitem the plugin got (as it left it); only once `parse` succeeded. */
  get workitem(): Workitem {
    if (this.#workitem === undefined) throw new Error('worker child: task not parsed yet');
    return this.#workitem;
  }

  /**
   * Not performance.now(): the global's first use loads perf_hooks and its internal modules into
   * every child (bench/FINDINGS.md, issue 26), for two clock readings a task.
   */
  startClock(): void {
    this.#started = process.hrtime.bigint();
  }

  /** True once the plugin was given the task (its run time is then known). */
  get ran(): boolean {
    return this.#started !== undefined;
  }

  stopClock(): void {
    if (this.#started === undefined) return;
    this.durationMs = Math.round(Number(process.hrtime.bigint() - this.#started) / 1e6);
  }
}
