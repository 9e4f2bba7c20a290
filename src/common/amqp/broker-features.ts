import type { QueueType } from '../config/types.js';
import { TqError } from '../errors.js';

/**
 * What message priorities a broker honours, by queue type and RabbitMQ version, and how a type's
 * `max_priority` maps onto them (docs/priorities.md). Pure: the version comes from the
 * connection's server properties (amqplib `model.connection.serverProperties.version`).
 *
 *  - classic, any version: `x-max-priority` 1–255, strict order (RabbitMQ advises a single digit).
 *  - quorum before 4.0: no message priorities at all.
 *  - quorum 4.0–4.2: always two levels without any queue argument, priority 0–4 normal and ≥ 5
 *    high, delivered high:normal at 2:1 (fair share, not strict): only `max_priority = 1` says
 *    what the broker does, and a task of priority ≥ 1 is forwarded with QUORUM_HIGH_PRIORITY.
 *  - quorum from 4.3: always strict levels 0–31 without any queue argument (`x-max-priority` is
 *    for classic queues only); a message without a priority counts as 4 there, so a task without
 *    one is forwarded with 0, as a classic queue reads it, and above `max_priority` it is capped.
 */

/** A RabbitMQ version as the broker announced it (`3.10.8`, `4.0.5`, `4.3.0+12.g1a2b3c`). */
export interface BrokerVersion {
  major: number;
  minor: number;
  patch: number;
  /** The announced text, for messages. */
  text: string;
}

/** The first `MAJOR.MINOR[.PATCH]` of the announced version, or undefined. */
export function parseBrokerVersion(text: unknown): BrokerVersion | undefined {
  if (typeof text !== 'string') return undefined;
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  if (!match) return undefined;
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3] ?? 0),
    text: text.trim(),
  };
}

/** The server property amqplib keeps from connection.start. */
export function brokerVersionOf(model: {
  connection: { serverProperties?: { version?: unknown } };
}): BrokerVersion | undefined {
  return parseBrokerVersion(model.connection.serverProperties?.version);
}

/** The highest `x-max-priority` RabbitMQ takes on a classic queue. */
export const CLASSIC_MAX_PRIORITY = 255;
/** Above this many levels RabbitMQ advises against classic priorities (a sub-queue a level). */
export const CLASSIC_ADVISED_MAX_PRIORITY = 10;
/** RabbitMQ 4.0–4.2 quorum queues: a priority from this one up is "high". */
export const QUORUM_HIGH_PRIORITY = 5;
/** RabbitMQ ≥ 4.3 quorum queues: levels 0–31; a higher priority counts as 31. */
export const QUORUM_STRICT_MAX_PRIORITY = 31;

/** What a type's worker queue does with priorities on this broker. */
export type PriorityPlan =
  /** No `max_priority`: the priority property is passed on as it came. */
  | { kind: 'none' }
  /** `x-max-priority` on a classic queue: strict, 0 … maxPriority. */
  | { kind: 'classic'; maxPriority: number }
  /** RabbitMQ 4.0–4.2 quorum queue: normal and high, 2:1. */
  | { kind: 'quorum-two-levels'; version: string }
  /** RabbitMQ ≥ 4.3 quorum queue: strict, 0 … maxPriority of its 0–31. */
  | { kind: 'quorum-strict'; maxPriority: number; version: string };

/** One type's ask. */
export interface PriorityRequest {
  type: string;
  queueType: QueueType;
  maxPriority: number | undefined;
}

const atLeast = (v: BrokerVersion, major: number, minor: number): boolean =>
  v.major > major || (v.major === major && v.minor >= minor);

/**
 * The plan for `request` on a broker of `version`; throws TQ_ERR_PRIORITY_UNSUPPORTED (exit 78)
 * naming the type, queue_type, broker version and what this broker accepts.
 */
export function priorityPlan(
  request: PriorityRequest,
  version: BrokerVersion | undefined,
): PriorityPlan {
  const { maxPriority, queueType } = request;
  if (maxPriority === undefined) return { kind: 'none' };
  if (queueType === 'classic') return { kind: 'classic', maxPriority };
  if (version === undefined || !atLeast(version, 4, 0)) {
    throw refusal(
      request,
      version,
      version === undefined
        ? 'the broker did not announce a version, and quorum queues have message priorities only from RabbitMQ 4.0'
        : 'quorum queues have no message priorities before RabbitMQ 4.0',
      'no max_priority on quorum queues; with queue_type = classic, max_priority 1–255',
    );
  }
  if (!atLeast(version, 4, 3)) {
    if (maxPriority === 1) return { kind: 'quorum-two-levels', version: version.text };
    throw refusal(
      request,
      version,
      'quorum queues have two levels only here (normal, high: a task of priority ≥ 1 goes as high)',
      'max_priority = 1 on quorum queues; with queue_type = classic, max_priority 1–255',
    );
  }
  if (maxPriority <= QUORUM_STRICT_MAX_PRIORITY)
    return { kind: 'quorum-strict', maxPriority, version: version.text };
  throw refusal(
    request,
    version,
    `quorum queues have priorities 0–${QUORUM_STRICT_MAX_PRIORITY} here`,
    `max_priority 1–${QUORUM_STRICT_MAX_PRIORITY} on quorum queues; with queue_type = classic, max_priority 1–255`,
  );
}

function refusal(
  { type, queueType, maxPriority }: PriorityRequest,
  version: BrokerVersion | undefined,
  why: string,
  accepts: string,
): TqError {
  const broker = version ? `RabbitMQ ${version.text}` : 'a broker of unknown version';
  return new TqError(
    'TQ_ERR_PRIORITY_UNSUPPORTED',
    `[${type}] max_priority = ${maxPriority} cannot be honoured with queue_type = ${queueType} ` +
      `on ${broker}: ${why}. This broker accepts ${accepts} (docs/priorities.md)`,
    { details: { type, queueType, maxPriority, brokerVersion: version?.text } },
  );
}

/** The one info line saying what applies, or undefined for a type without `max_priority`. */
export function describePlan(type: string, plan: PriorityPlan): string | undefined {
  const queue = `worker_${type}`;
  switch (plan.kind) {
    case 'none':
      return undefined;
    case 'classic':
      return `${queue}: ${plan.maxPriority} priority levels above 0 (classic, x-max-priority ${plan.maxPriority})`;
    case 'quorum-two-levels':
      return `${queue}: two levels normal/high (quorum, RabbitMQ ${plan.version}): a task of priority ≥ 1 goes as ${QUORUM_HIGH_PRIORITY} (high, delivered 2:1 with normal)`;
    case 'quorum-strict':
      return `${queue}: ${plan.maxPriority} priority levels above 0, strict (quorum, RabbitMQ ${plan.version}): a task without priority goes as 0, above ${plan.maxPriority} as ${plan.maxPriority}`;
  }
}

/** A warning worth logging about a plan the broker honours, if any. */
export function planAdvice(type: string, plan: PriorityPlan): string | undefined {
  if (plan.kind === 'classic' && plan.maxPriority > CLASSIC_ADVISED_MAX_PRIORITY)
    return (
      `[${type}] max_priority = ${plan.maxPriority}: RabbitMQ keeps a sub-queue per level of a ` +
      `classic queue and advises a single-digit number of levels; ${CLASSIC_ADVISED_MAX_PRIORITY} ` +
      'or fewer is cheaper and orders the same for most uses'
    );
  return undefined;
}

/** Whether the dispatcher rewrites the priority of tasks forwarded under `plan`. */
export function rewritesPriority(plan: PriorityPlan): boolean {
  return plan.kind === 'quorum-two-levels' || plan.kind === 'quorum-strict';
}

/**
 * The priority a task of `priority` (undefined: the property is absent) is forwarded with, so that
 * the broker orders it as `max_priority` says: unchanged on classic queues (the broker caps it at
 * x-max-priority itself), raised to high on a two-level quorum queue, made explicit and capped on
 * a strict one. Applying it twice gives the same value (retries and hand-backs keep it).
 */
export function forwardPriority(
  plan: PriorityPlan,
  priority: number | undefined,
): number | undefined {
  switch (plan.kind) {
    case 'none':
    case 'classic':
      return priority;
    case 'quorum-two-levels':
      return priority !== undefined && priority >= 1 ? QUORUM_HIGH_PRIORITY : priority;
    case 'quorum-strict':
      return priority === undefined ? 0 : Math.min(priority, plan.maxPriority);
  }
}
