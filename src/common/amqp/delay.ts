import type { Channel, Options } from 'amqplib';
import type { QueueType } from '../config/types.js';
import { TqError } from '../errors.js';
import {
  DELAY_DELIVER_EXCHANGE,
  DELAY_ENTRY_EXCHANGE,
  DELAY_LEVELS,
  DELAY_UNIT_MS,
  DELAY_UNROUTED_EXCHANGE,
  delayExchange,
  delayQueue,
  levelDelayMs,
  MAX_DELAY_MS,
} from './delay-names.js';
import type { ConfirmedPublisher } from './publisher.js';
import { plainQueue, type QueueDeclaration } from './queues.js';
import { NOT_BEFORE_HEADER } from './wire.js';

/**
 * The delay ladder's topology and routing keys (docs/delays.md; names in delay-names.ts). A task
 * enters at the highest level's exchange with a routing key that spells its delay in binary, one
 * word a level: each level's exchange sends it into that level's queue when its word is 1 (the
 * queue holds it for 2^N units by its fixed TTL, then dead-letters it to the next lower
 * exchange, keeping the routing key) or straight on to the next lower exchange when it is 0.
 * After level 0 the deliver exchange routes it by its last words, the destination queue's name.
 * Fixed TTLs per queue, so a queue's head is always the first to come due: the broker's
 * expire-at-the-head rule never holds a task behind a later one.
 */

/**
 * How far past the longest delay a not-before may be and still be taken (held MAX_DELAY_MS,
 * then sent back by the child for the rest): room for a submitter's clock ahead of ours and for
 * the time a task waited on the input queue, without taking a date years ahead.
 */
export const NOT_BEFORE_SLACK_MS = 60_000;

/**
 * Level `level`'s bindings: with its word `1` a task goes into the level's queue, with `0` on to
 * the next lower exchange. Words of higher levels before it (any), anything after it.
 */
export function levelPattern(level: number, bit: 0 | 1): string {
  const before = DELAY_LEVELS - 1 - level;
  return [...Array<string>(before).fill('*'), String(bit), '#'].join('.');
}

/** The deliver exchange's binding of `queue`: any delay words, then exactly the queue's name. */
export function deliverPattern(queue: string): string {
  return `${'*.'.repeat(DELAY_LEVELS)}${queue}`;
}

/**
 * Level `level`'s queue: nobody consumes it; a task leaves it after levelDelayMs(level), dead-
 * lettered with its routing key to the next lower level's exchange (level 0: the deliver
 * exchange). On quorum queues the dead-lettering is at-least-once (RabbitMQ ≥ 3.10; it needs
 * reject-publish overflow), so a task is never lost between two levels.
 */
export function delayQueueDeclaration(level: number, queueType: QueueType): QueueDeclaration {
  const declaration = plainQueue(delayQueue(level), queueType);
  const args = declaration.options.arguments as Record<string, unknown>;
  args['x-message-ttl'] = levelDelayMs(level);
  args['x-dead-letter-exchange'] = level === 0 ? DELAY_DELIVER_EXCHANGE : delayExchange(level - 1);
  if (queueType === 'quorum') {
    args['x-dead-letter-strategy'] = 'at-least-once';
    args['x-overflow'] = 'reject-publish';
  }
  return declaration;
}

/**
 * Declares the whole ladder, idempotently: the unrouted (fanout) and deliver (topic) exchanges,
 * and every level's exchange, queue and two bindings. Run on every connection by whoever puts
 * tasks into the ladder or binds a destination to it.
 */
export async function declareDelayLadder(channel: Channel, queueType: QueueType): Promise<void> {
  await channel.assertExchange(DELAY_UNROUTED_EXCHANGE, 'fanout', { durable: true });
  await channel.assertExchange(DELAY_DELIVER_EXCHANGE, 'topic', {
    durable: true,
    alternateExchange: DELAY_UNROUTED_EXCHANGE,
  });
  // From level 0 up: every exchange a level dead-letters or binds to exists before it.
  for (let level = 0; level < DELAY_LEVELS; level++) {
    const exchange = delayExchange(level);
    const next = level === 0 ? DELAY_DELIVER_EXCHANGE : delayExchange(level - 1);
    const { name, options } = delayQueueDeclaration(level, queueType);
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(name, options);
    await channel.bindQueue(name, exchange, levelPattern(level, 1));
    await channel.bindExchange(next, exchange, levelPattern(level, 0));
  }
}

/** Lets tasks out of the ladder into `queue` (a `worker_<type>`); idempotent. */
export async function bindDelayDestination(channel: Channel, queue: string): Promise<void> {
  await channel.bindQueue(queue, DELAY_DELIVER_EXCHANGE, deliverPattern(queue));
}

/** A delay in whole units, rounded up: a task never leaves the ladder early. */
export function delayUnits(delayMs: number): number {
  return delayMs <= 0 ? 0 : Math.ceil(delayMs / DELAY_UNIT_MS);
}

/**
 * The routing key that holds a task `delayMs` (rounded up to units) and then delivers it to
 * `destination`: DELAY_LEVELS words `0`/`1`, highest level first, then the queue's name.
 * Throws TQ_ERR_DELAY_INVALID for a delay above MAX_DELAY_MS or not a number.
 */
export function delayRoutingKey(delayMs: number, destination: string): string {
  if (!Number.isFinite(delayMs) || delayMs > MAX_DELAY_MS) {
    throw new TqError(
      'TQ_ERR_DELAY_INVALID',
      `a delay of ${delayMs} ms is not one from 0 to ${MAX_DELAY_MS} ms (7 days)`,
    );
  }
  const units = delayUnits(delayMs);
  let words = '';
  for (let level = DELAY_LEVELS - 1; level >= 0; level--)
    words += Math.floor(units / 2 ** level) % 2 === 1 ? '1.' : '0.';
  return words + destination;
}

/**
 * Publishes a task into the ladder, to come out at `destination` no earlier than `dueMs` (epoch
 * ms), and resolves once the broker confirmed it. NOT_BEFORE_HEADER says the due time to whoever
 * receives it (a child that gets it early sends it back for the rest). The AMQP `expiration` is
 * left out: it would make a level drop or pass on the task before its time. A due time further
 * than MAX_DELAY_MS is held MAX_DELAY_MS and sent back again by the child that gets it.
 */
export function publishDelayed(
  publisher: ConfirmedPublisher,
  content: Buffer,
  options: Options.Publish,
  destination: string,
  dueMs: number,
  now: number = Date.now(),
): Promise<void> {
  const key = delayRoutingKey(Math.min(MAX_DELAY_MS, dueMs - now), destination);
  const { expiration: _dropped, ...rest } = options;
  const laddered: Options.Publish = {
    ...rest,
    headers: { ...(options.headers ?? {}), [NOT_BEFORE_HEADER]: new Date(dueMs).toISOString() },
  };
  return publisher.publish(DELAY_ENTRY_EXCHANGE, key, content, laddered);
}
