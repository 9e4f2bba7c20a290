import type { Config } from '../../common/config/types.js';
import { TqError } from '../../common/errors.js';

/**
 * The CLI's broker code (queues, dead letters) speaks in its own codes; an API client hears the
 * API's: a missing queue is 404 TQ_ERR_API_QUEUE_NOT_FOUND, a broker not reached or failing
 * partway 503 TQ_ERR_API_BROKER. Anything else goes on as it is (TQ_ERR_DEAD_NOT_FOUND is 404
 * already; the rest is the daemon's fault, 500).
 */
export function asApiError(err: unknown): unknown {
  if (!(err instanceof TqError)) return err;
  if (err.code === 'TQ_ERR_CLI_NO_QUEUE') {
    return new TqError('TQ_ERR_API_QUEUE_NOT_FOUND', err.message, { cause: err });
  }
  if (err.code.startsWith('TQ_ERR_AMQP_') || err.code === 'TQ_ERR_MANAGEMENT_API') {
    return new TqError('TQ_ERR_API_BROKER', `${err.message} [${err.code}]`, { cause: err });
  }
  return err;
}

/** The config the broker routes need, or 503 when the server was built without one. */
export function brokerConfig(config: Config | undefined): Config {
  if (config === undefined) {
    throw new TqError('TQ_ERR_API_BROKER', 'this API server has no broker configured');
  }
  return config;
}
