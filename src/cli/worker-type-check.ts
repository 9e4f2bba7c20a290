import { TqError } from '../common/errors.js';
import { WORKER_TYPE_PATTERN } from '../dispatcher/route.js';

/**
 * Refuses a type the dispatcher would park on the invalid queue, before anything is published:
 * the same pattern the dispatcher routes by.
 */
export function checkWorkerType(type: string): void {
  if (WORKER_TYPE_PATTERN.test(type)) return;
  throw new TqError(
    'TQ_ERR_CLI_USAGE',
    `worker type ${JSON.stringify(type)} does not match ${WORKER_TYPE_PATTERN.source}`,
  );
}
