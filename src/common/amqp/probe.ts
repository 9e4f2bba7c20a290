import amqp from 'amqplib';
import type { AmqpConfig } from '../config/types.js';
import { connectTargets } from './connect-options.js';
import { accessRefusedError, brokerRefusal } from './refusal.js';

/** What one look at the broker found: it let us in, or none of the URLs answered. */
export type ProbeResult = 'accepted' | 'unreachable';

/**
 * One connection attempt per URL, for a program that does not connect itself (the worker pool:
 * its children do) but must still stop at once when the broker refuses the config's user,
 * password or vhost, instead of restarting children that can never connect. The first URL that
 * answers decides; an unreachable broker is no error here, the children keep trying.
 *
 * @throws TqError TQ_ERR_AMQP_ACCESS_REFUSED
 */
export async function probeBroker(config: AmqpConfig, name: string): Promise<ProbeResult> {
  for (const target of connectTargets(config, name)) {
    try {
      const model = await amqp.connect(target.url, target.socketOptions);
      await model.close().catch(() => {});
      return 'accepted';
    } catch (err) {
      const refusal = brokerRefusal(err);
      if (refusal) throw accessRefusedError(target.url, refusal, err);
    }
  }
  return 'unreachable';
}
