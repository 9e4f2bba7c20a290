import { randomUUID } from 'node:crypto';
import type { ConfirmChannel, GetMessage, Options } from 'amqplib';
import { encodableCopy } from '../../common/amqp/properties.js';
import { ConfirmedPublisher } from '../../common/amqp/publisher.js';
import type { Config } from '../../common/config/types.js';
import { hasCode, TqError } from '../../common/errors.js';
import { ExitStatus } from '../../common/exit.js';
import type { Logger } from '../../common/logger.js';
import { type DeadRequest, parkedQueue } from './args.js';
import { requeuedBy, requeueOptions } from './history.js';
import { openParkedQueue } from './parked-queue.js';
import { isNamed } from './parked-task.js';
import { mustHoldAll, walkQueue } from './walk.js';

/** Copies in flight at once: enough to keep the broker busy, few enough to hold little. */
const PUBLISH_WINDOW = 64;

/**
 * `taskqueue dead requeue`: sends the chosen parked tasks back to the input queue with their
 * attempt, crash count and log, reason and code cleared and kept in the history header
 * (history.ts). Each copy is published on a confirm channel and the parked original acked only
 * once the broker confirmed the copy: a command killed at any point loses nothing, at worst a
 * task is then both on the input queue and still parked (a duplicate, not deduplicated). The
 * tasks not chosen are held unacked and go back in their order when the connection closes. A
 * task this run requeued that comes back parked during the run is left there.
 *
 * `--dry-run`: says how many and which would go, and sends nothing.
 */
export async function requeueParked(
  config: Config,
  log: Logger,
  request: DeadRequest,
  out: (line: string) => void,
): Promise<number> {
  const outcome = await requeueTasks(config, log, request);
  const { queue, input } = outcome;
  if (outcome.failure !== undefined) {
    // Said before the error: what went is on the input queue, the rest is still parked.
    out(
      `requeued ${outcome.moved} task(s) from ${queue} to ${input} before an error; the others stay parked`,
    );
    throw outcome.failure;
  }
  if (request.dryRun) {
    out(`would requeue ${outcome.ids.length} task(s) from ${queue} to ${input}:`);
    for (const id of outcome.ids) out(`  ${id}`);
  } else out(`requeued ${outcome.ids.length} task(s) from ${queue} to ${input}`);
  return notFoundStatus(request, outcome.found);
}

/** What a requeue did: also POST /v1/dead/:type/requeue's answer (src/api/routes/dead.ts). */
export interface RequeueOutcome {
  queue: string;
  input: string;
  /** The tasks chosen (by message id, else correlation id), in queue order. */
  ids: string[];
  /** Copies the broker confirmed (their originals are gone from the parked queue). */
  moved: number;
  /** The ids of the request that were met. */
  found: Set<string>;
  /** The first error: `moved` went, the others stay parked. */
  failure?: unknown;
}

/** The walk of `dead requeue`, without output (see requeueParked). */
export async function requeueTasks(
  config: Config,
  log: Logger,
  request: Pick<DeadRequest, 'type' | 'ids' | 'limit' | 'dryRun'>,
): Promise<RequeueOutcome> {
  const queue = parkedQueue(request, config.dispatcher.queue);
  const input = config.dispatcher.queue;
  const run = { id: randomUUID(), from: queue, at: new Date().toISOString() };
  const { connection, channel } = await openParkedQueue(config, log, queue, input);
  const publisher = new ConfirmedPublisher(channel);
  const found = new Set<string>();
  const ids: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let moved = 0;
  let failure: unknown;
  const holdAll = mustHoldAll(config.amqp.queueType);
  try {
    await walkQueue(channel, queue, async (message) => {
      if (failure !== undefined) return false;
      if (ids.length >= request.limit) return holdAll;
      if (requeuedBy(message.properties, run) || !wanted(request, message, found)) return true;
      ids.push(idOf(message));
      if (!request.dryRun) {
        const sent = copyThenAck(channel, publisher, input, message, run).then(
          () => {
            moved++;
          },
          (err) => {
            failure ??= err;
          },
        );
        inFlight.add(sent);
        void sent.finally(() => inFlight.delete(sent));
        if (inFlight.size >= PUBLISH_WINDOW) await Promise.race(inFlight);
      }
      return holdAll || ids.length < request.limit;
    });
    await Promise.all(inFlight);
  } finally {
    await connection.close();
  }
  return failure === undefined
    ? { queue, input, ids, moved, found }
    : { queue, input, ids, moved, found, failure };
}

/** The task is one the request names (and `found` records which names were met). */
export function wanted(
  request: Pick<DeadRequest, 'ids'>,
  message: GetMessage,
  found: Set<string>,
): boolean {
  if (request.ids === undefined) return true;
  const names = request.ids.filter((id) => isNamed(message.properties, id));
  for (const id of names) found.add(id);
  return names.length > 0;
}

/** 0 when every id given was found; else TQ_ERR_DEAD_NOT_FOUND naming the others. */
export function notFoundStatus(
  request: Pick<DeadRequest, 'ids' | 'limit'>,
  found: Set<string>,
): number {
  const missing = (request.ids ?? []).filter((id) => !found.has(id));
  if (missing.length === 0 || request.limit !== Number.POSITIVE_INFINITY) return ExitStatus.OK;
  throw new TqError('TQ_ERR_DEAD_NOT_FOUND', `not parked there: ${missing.join(', ')}`, {
    details: { missing },
  });
}

/** A task's name in output: its message id, else correlation id, else its place. */
export function idOf(message: GetMessage): string {
  const { messageId, correlationId } = message.properties;
  return messageId ?? correlationId ?? `(no id, delivery ${message.fields.deliveryTag})`;
}

/** Publishes the copy, waits for its confirm, then takes the original off the parked queue. */
async function copyThenAck(
  channel: ConfirmChannel,
  publisher: ConfirmedPublisher,
  input: string,
  message: GetMessage,
  run: Parameters<typeof requeueOptions>[1],
): Promise<void> {
  const options: Options.Publish = requeueOptions(message.properties, run);
  try {
    await publisher.publish('', input, message.content, options);
  } catch (err) {
    // Properties another client wrote that cannot be written again: the system's own go on.
    if (!hasCode(err, 'TQ_ERR_AMQP_ENCODE')) throw err;
    await publisher.publish(
      '',
      input,
      message.content,
      encodableCopy(options, (err as Error).message),
    );
  }
  channel.ack(message);
}
