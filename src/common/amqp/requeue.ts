import { setTimeout as sleep } from 'node:timers/promises';
import type { Channel, Message } from 'amqplib';

/** How long a message whose handling the broker refused waits before it is handed back. */
export const REQUEUE_PAUSE_MS = 1_000;

/**
 * Hands a message back to its queue after a pause, so that a broker that refuses everything
 * (a full queue, a queue deleted meanwhile) is not asked again in a hot loop, and the message is
 * never held forever by this consumer. A channel closed in the meantime needs nothing: the
 * broker requeues what it held.
 */
export async function requeueAfterPause(
  channel: Channel,
  message: Message,
  pauseMs = REQUEUE_PAUSE_MS,
): Promise<void> {
  if (pauseMs > 0) await sleep(pauseMs);
  try {
    channel.nack(message, false, true);
  } catch {
    // The channel closed in between: the broker redelivers it anyway.
  }
}
