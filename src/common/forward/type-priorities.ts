import type { Options } from 'amqplib';
import {
  type BrokerVersion,
  describePlan,
  forwardPriority,
  type PriorityPlan,
  planAdvice,
  priorityPlan,
  rewritesPriority,
} from '../amqp/broker-features.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../logger.js';

/**
 * Every type's priority plan on the broker of one connection (common/amqp/broker-features.ts),
 * made at each (re)connect: a configured type the broker cannot honour throws
 * TQ_ERR_PRIORITY_UNSUPPORTED before the dispatcher consumes, and the node reached after a
 * reconnect may run another version. A type without a section of its own gets [DEFAULT]'s
 * `max_priority`, as the pool on its host would; the dispatcher's host needs the same type
 * sections as the pools' hosts for both to declare `worker_<type>` alike.
 */
export class TypePriorities {
  /** Configured types' plans. */
  readonly #plans = new Map<string, PriorityPlan>();
  /** The plan of a type without a section ([DEFAULT]'s max_priority). */
  readonly #default: PriorityPlan;
  readonly #config: Config;

  constructor(config: Config, version: BrokerVersion | undefined) {
    this.#config = config;
    const queueType = config.amqp.queueType;
    for (const type of config.configuredTypes) {
      const maxPriority = config.groupsFor(type)[0]?.maxPriority;
      this.#plans.set(type, priorityPlan({ type, queueType, maxPriority }, version));
    }
    const maxPriority = config.groupsFor('DEFAULT')[0]?.maxPriority;
    this.#default = priorityPlan({ type: 'DEFAULT', queueType, maxPriority }, version);
  }

  /** One info line for each type with priorities, and a warning where RabbitMQ advises less. */
  log(log: Logger): void {
    for (const [type, plan] of [...this.#plans, ['*', this.#default] as const]) {
      const line = describePlan(type, plan);
      if (line) log.info({ type, priorities: plan.kind }, line);
      const advice = planAdvice(type, plan);
      if (advice) log.warn({ type }, advice);
    }
  }

  /** The `max_priority` `worker_<type>` is declared with, as the pool's children declare it. */
  maxPriority(type: string): number | undefined {
    return this.#config.groupsFor(type)[0]?.maxPriority;
  }

  /** Sets the priority a task forwarded to `worker_<type>` goes with (a lookup for most types). */
  adjust(type: string, options: Options.Publish): void {
    const plan = this.#plans.get(type) ?? this.#default;
    if (!rewritesPriority(plan)) return;
    const priority = forwardPriority(plan, options.priority);
    if (priority !== undefined) options.priority = priority;
  }
}
