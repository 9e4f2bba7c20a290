import { setTimeout as sleep } from 'node:timers/promises';
import type { Message } from 'amqplib';
import type { AckBatcher } from './acks.js';

/** How long a message whose handling the broker refused waits before it is handed back. */
export const REQUEUE_PAUSE_MS = 1_000;

/**
 * Hands a message back to its queue after a pause, so that a broker that refuses everything
 * (a full queue, a queue deleted meanwhile) is not asked again in a hot loop, and the message is
 * never held forever by this consumer. A channel closed in the meantime needs nothing: the
 * broker requeues what it held.
 */
export async function requeueAfterPause(
  acks: AckBatcher,
  message: Message,
  pauseMs = REQUEUE_PAUSE_MS,
): Promise<void> {
  if (pauseMs > 0) await sleep(pauseMs);
  try {
    acks.nack(message, true);
  } catch {
    // The channel closed in between: the broker redelivers it anyway.
  }
}
