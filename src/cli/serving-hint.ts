import { workerQueue } from '../common/amqp/queues.js';
import type { QueueLook } from './queue-state.js';

/**
 * Why a submitted task would wait with nobody to take it: one hint per queue on its way that no
 * one consumes; none when each has a consumer or the broker would not say. Looked at once, when
 * the task is submitted: a pool that starts later still serves it.
 */
export function waitingHints(
  type: string,
  input: { name: string; look: QueueLook },
  worker: QueueLook,
): string[] {
  const hints: string[] = [];
  if (unconsumed(input.look)) {
    hints.push(`no dispatcher consumes queue ${input.name}; the task waits there until one runs`);
  }
  const queue = workerQueue(type);
  if (unconsumed(worker)) {
    const why =
      worker === 'missing' ? `queue ${queue} does not exist` : `queue ${queue} has no consumer`;
    hints.push(
      `no worker serves type ${type} (${why}); the task waits until a pool runs taskqueue-plugin-${type}`,
    );
  }
  return hints;
}

function unconsumed(look: QueueLook): boolean {
  return look === 'missing' || (look !== 'unknown' && look.consumerCount === 0);
}
