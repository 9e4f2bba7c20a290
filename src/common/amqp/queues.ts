import type { Channel, Options } from 'amqplib';
import type { QueueType } from '../config/types.js';

/** The queue a type's tasks wait on. */
export const workerQueue = (type: string): string => `worker_${type}`;
/** Where the dispatcher parks input it cannot route. */
export const invalidQueue = (inputQueue: string): string => `${inputQueue}.invalid`;
/** Where a type's poison messages go. */
export const deadQueue = (type: string): string => `worker_${type}.dead`;
/**
 * Where a type's failed tasks waited `delayMs` before they went back to `worker_<type>`, before
 * retries went through the delay ladder (issue 30, delay.ts): no longer declared, but such a
 * queue may still drain on an installation upgraded meanwhile, and `taskqueue queues` names it.
 */
export const retryQueue = (type: string, delayMs: number): string =>
  `worker_${type}.retry.${delayMs}ms`;
/** Where results go that no queue would receive on their configured route. */
export const UNROUTABLE_RESULTS_QUEUE = 'taskqueue.unroutable';

/**
 * The broker's own backstop on quorum queues: a message delivered this many times without an
 * ack is dead-lettered (worker queues: to `worker_<type>.dead`). RabbitMQ 4 sets 20 by default
 * and then drops; taskqueue counts crashes itself (max_crashes, at most MAX_CRASHES_LIMIT) and
 * re-publishes a redelivered task with its count, so this limit is only reached by a task that
 * keeps losing its consumer's connection.
 */
export const QUORUM_DELIVERY_LIMIT = 1000;

/** A declaration: the same name always gets the same arguments, in every program. */
export interface QueueDeclaration {
  name: string;
  options: Options.AssertQueue;
}

function baseArguments(queueType: QueueType): Record<string, unknown> {
  if (queueType === 'quorum')
    return { 'x-queue-type': 'quorum', 'x-delivery-limit': QUORUM_DELIVERY_LIMIT };
  return {};
}

/** Any queue of the system that is not a worker or retry queue (input, invalid, results, dead). */
export function plainQueue(name: string, queueType: QueueType): QueueDeclaration {
  return { name, options: { durable: true, arguments: baseArguments(queueType) } };
}

/**
 * `worker_<type>`. On quorum queues the broker's delivery limit dead-letters to the type's dead
 * queue, so even that backstop never drops a task. `maxPriority` is the type's `max_priority`
 * (`config.groupsFor(type)[0].maxPriority`), passed by every program that declares the queue:
 * a classic queue gets `x-max-priority`; a quorum queue has its priorities without any argument
 * (RabbitMQ ≥ 4.0, broker-features.ts), so its declaration does not change with it. Required,
 * `undefined` for none: a declaration that forgot it would be refused by a priority queue.
 */
export function workerQueueDeclaration(
  type: string,
  queueType: QueueType,
  maxPriority: number | undefined,
): QueueDeclaration {
  const args = baseArguments(queueType);
  if (queueType === 'classic' && maxPriority !== undefined) args['x-max-priority'] = maxPriority;
  if (queueType === 'quorum') {
    Object.assign(args, {
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': deadQueue(type),
      // At-least-once dead-lettering (RabbitMQ ≥ 3.10) needs reject-publish overflow.
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    });
  }
  return { name: workerQueue(type), options: { durable: true, arguments: args } };
}

/**
 * `worker_<type>.retry.<ms>ms` as earlier versions declared it (kept for their tests and for
 * whoever inspects an old one): nobody consumes it; a message expires after `delayMs` (or its own
 * shorter `expiration`) and the broker dead-letters it back to `worker_<type>`. The delay lives
 * in the broker, so a waiting retry holds no child and survives a restart of the pool.
 */
export function retryQueueDeclaration(
  type: string,
  delayMs: number,
  queueType: QueueType,
): QueueDeclaration {
  const args: Record<string, unknown> = {
    ...baseArguments(queueType),
    'x-message-ttl': delayMs,
    'x-dead-letter-exchange': '',
    'x-dead-letter-routing-key': workerQueue(type),
  };
  if (queueType === 'quorum') {
    args['x-dead-letter-strategy'] = 'at-least-once';
    args['x-overflow'] = 'reject-publish';
  }
  return { name: retryQueue(type, delayMs), options: { durable: true, arguments: args } };
}

/** Declares `declaration` on `channel`. */
export async function declare(channel: Channel, declaration: QueueDeclaration): Promise<void> {
  await channel.assertQueue(declaration.name, declaration.options);
}

/** Declares a durable queue of the system with the system's arguments. */
export async function declareQueue(
  channel: Channel,
  name: string,
  queueType: QueueType,
): Promise<void> {
  await declare(channel, plainQueue(name, queueType));
}

// --- Rate limits (issue 30, docs/rate-limits.md) ---------------------------------------------

/**
 * The tokens of a type with `rate_limit`: its children mint them at the type's rate and take one
 * before each task. Outside the `worker_` namespace, so that nothing that lists or counts a type's
 * task queues (`taskqueue queues`, the dashboard) takes tokens for tasks.
 */
export const rateTokenQueue = (type: string): string => `taskqueue.rate.${type}.tokens`;

/**
 * At most this many tokens wait in a token queue (the oldest dropped first): a bound on memory
 * only. What a token queue may bank is bounded by each token's own lifetime (rate-share.ts), which
 * scales with the rate, so that pools with different `rate_limit` values still declare the same
 * queue.
 */
export const RATE_TOKEN_QUEUE_MAX_LENGTH = 1000;

/**
 * `taskqueue.rate.<type>.tokens`, of the system's queue type (a quorum token queue outlives the
 * loss of a node, as the worker queue it gates does). Tokens are not persistent: one lost in a
 * broker restart is minted again within a tick.
 */
export function rateTokenQueueDeclaration(type: string, queueType: QueueType): QueueDeclaration {
  const args: Record<string, unknown> = {
    ...baseArguments(queueType),
    'x-max-length': RATE_TOKEN_QUEUE_MAX_LENGTH,
    'x-overflow': 'drop-head',
  };
  return { name: rateTokenQueue(type), options: { durable: true, arguments: args } };
}

// --- Tracking (issue 28, docs/wire-format.md "Lifecycle events") ----------------------------

/** The durable topic exchange the dispatcher and the children publish lifecycle events to. */
export const EVENTS_EXCHANGE = 'taskqueue.events';
/** The durable queue the tracker (taskqueue-api) consumes, bound to EVENTS_EXCHANGE. */
export const TRACKER_QUEUE = 'taskqueue.tracker';
/** The tracker queue's binding: every task event. */
export const TRACKER_BINDING = 'task.#';
/** Where the tracker parks an event it cannot read (poison), so it is not redelivered forever. */
export const TRACKER_INVALID_QUEUE = 'taskqueue.tracker.invalid';
/** `task.<event>.<type>`; an event whose type is not known (an invalid task) has `task.<event>`. */
export const eventRoutingKey = (event: string, type: string): string =>
  type === '' ? `task.${event}` : `task.${event}.${type}`;

/**
 * Declares the events exchange, the tracker queue and its binding. Every publisher declares
 * all three, not only the exchange: final events are kept by the broker from the first one on,
 * also while no tracker runs yet (or ever ran), so that a final is never lost and a publish is
 * never unroutable on an installation where tracking is on.
 */
export async function declareTracking(channel: Channel, queueType: QueueType): Promise<void> {
  await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
  await declareQueue(channel, TRACKER_QUEUE, queueType);
  await channel.bindQueue(TRACKER_QUEUE, EVENTS_EXCHANGE, TRACKER_BINDING);
}

// --- Cancels (issue 28, docs/workerpool.md "Cancelling a task") -----------------------------

/**
 * The durable stream every worker child reads from its start: one message a cancel (and the
 * children's catch-up marks, cancel/feed.ts). A stream, not a queue: every reader sees every
 * message, also a child that starts days after the cancel was issued.
 */
export const CANCELS_STREAM = 'taskqueue.cancels';
/** How long the stream keeps a cancel (RabbitMQ's `x-max-age`); a child forgets it then too. */
export const CANCELS_MAX_AGE = '7D';
export const CANCELS_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/** `taskqueue.cancels`: the same declaration whatever `queue_type` says (streams are their own). */
export function cancelsStreamDeclaration(): QueueDeclaration {
  return {
    name: CANCELS_STREAM,
    options: {
      durable: true,
      arguments: {
        'x-queue-type': 'stream',
        'x-max-age': CANCELS_MAX_AGE,
        // Retention drops whole segments: small ones, so that what is past its age goes.
        'x-stream-max-segment-size-bytes': 8 * 1024 * 1024,
      },
    },
  };
}
