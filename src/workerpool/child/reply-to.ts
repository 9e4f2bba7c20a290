import { DIRECT_REPLY_TO } from '../../common/amqp/wire.js';

/** The prefix of RabbitMQ's direct reply-to addresses (wire.ts). */
export { DIRECT_REPLY_TO };

/**
 * A direct reply-to address as the broker hands it to a requester: the prefix, a dot, then
 * base64-ish parts joined by dots. The bare prefix is what a requester consumes from, never an
 * address a reply can go to; anything else after it the broker drops without a word.
 */
const DIRECT_REPLY_TO_ADDRESS = new RegExp(
  `^${DIRECT_REPLY_TO.replaceAll('.', '\\.')}\\.[A-Za-z0-9+/=_-]+(\\.[A-Za-z0-9+/=_-]+)*$`,
);

/** Where a result goes, as the task's `reply_to` asks for it. */
export type ReplyTarget =
  | { kind: 'none' }
  | { kind: 'queue'; queue: string }
  | { kind: 'direct'; queue: string }
  | { kind: 'refused'; replyTo: string; reason: string };

/**
 * Decides whether a task's `reply_to` may receive its result. The child publishes with the
 * worker's credentials, which may write to every queue of the system: a sender must not be able
 * to aim a result at one of them (a result on the input queue runs as a task again; on another
 * type's `.dead` it looks like that type's poison). Refused: the input queue and every name under
 * it (`taskqueue.invalid`, `taskqueue.unroutable`), anything `worker_*`, `*.invalid`, `*.dead`,
 * and `amq.*` other than a server-named queue (`amq.gen-*`) or a well-formed direct reply-to
 * address.
 */
export function replyTarget(replyTo: string | undefined, inputQueue: string): ReplyTarget {
  if (replyTo === undefined || replyTo === '') return { kind: 'none' };
  const refuse = (reason: string): ReplyTarget => ({ kind: 'refused', replyTo, reason });
  // Read from invalid UTF-8 (U+FFFD, 3 bytes each), it may not fit a routing key any more.
  if (replyTo.length > 85 && Buffer.byteLength(replyTo) > 255)
    return refuse('longer than 255 bytes once encoded');
  if (replyTo.startsWith('amq.')) {
    if (DIRECT_REPLY_TO_ADDRESS.test(replyTo)) return { kind: 'direct', queue: replyTo };
    // A server-named queue (an RPC caller's exclusive one): only the broker makes such names.
    if (replyTo.startsWith('amq.gen-')) return { kind: 'queue', queue: replyTo };
    return replyTo.startsWith(DIRECT_REPLY_TO)
      ? refuse('not a well-formed direct reply-to address')
      : refuse('names a queue reserved by the broker (amq.*)');
  }
  if (isUnder(replyTo, inputQueue) || isUnder(replyTo, 'taskqueue'))
    return refuse('names the input queue or a queue of it (taskqueue, taskqueue.*)');
  if (replyTo.startsWith('worker_')) return refuse('names a worker queue (worker_*)');
  if (replyTo.endsWith('.invalid') || replyTo.endsWith('.dead'))
    return refuse('names a queue of parked messages (*.invalid, *.dead)');
  return { kind: 'queue', queue: replyTo };
}

/** `name` is `queue` or one of its companions (`queue.invalid`, `queue.unroutable`, …). */
function isUnder(name: string, queue: string): boolean {
  return name.startsWith(queue) && (name.length === queue.length || name[queue.length] === '.');
}
