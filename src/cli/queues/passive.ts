import type { ChannelModel } from 'amqplib';
import { inspectQueue } from '../queue-state.js';
import type { KnownQueue } from './our-queues.js';
import type { QueueRow } from './queue-row.js';

/** What a passive declare cannot tell. */
export const PASSIVE_UNKNOWN = [
  'unacked',
  'rate in',
  'rate out',
  'queues whose names the config does not give',
];

/**
 * Looks at each known queue with a passive declare (a channel each: a missing queue closes the
 * one it was asked on): ready messages and consumers. Optional names that do not exist are left
 * out; the others are shown missing.
 */
export async function passiveRows(model: ChannelModel, known: KnownQueue[]): Promise<QueueRow[]> {
  const rows: QueueRow[] = [];
  for (const queue of known) {
    const look = await inspectQueue(model, queue.name);
    if (look === 'missing' && queue.optional) continue;
    const state = typeof look === 'object' ? look : undefined;
    rows.push({
      name: queue.name,
      role: queue.role,
      exists: look !== 'missing',
      ready: state?.messageCount ?? null,
      unacked: null,
      consumers: state?.consumerCount ?? null,
      rate_in: null,
      rate_out: null,
    });
  }
  return rows;
}
