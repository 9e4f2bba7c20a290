import { TqError } from '../common/errors.js';
import { workerTypeProblem } from '../common/worker-type.js';

/**
 * Refuses a type the dispatcher would park on the invalid queue, before anything is published:
 * the same grammar the dispatcher routes by.
 */
export function checkWorkerType(type: string): void {
  const problem = workerTypeProblem(type);
  if (problem !== undefined) throw new TqError('TQ_ERR_CLI_USAGE', `worker type ${problem}`);
}
