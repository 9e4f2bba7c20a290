import type { Workitem } from '@taskqueue/plugin-api';
import { TqError } from '../common/errors.js';
import { buildWorkitem } from './submit.js';

/**
 * The workitem `taskqueue run-task TYPE [JSON]` runs. JSON with a `fields` key is a whole
 * workitem, run as it is; any other JSON object is the fields, wrapped as `submit` wraps them
 * (with `fields.params.worker_type` = TYPE); no JSON at all is a workitem with only that.
 *
 * @throws TqError `TQ_ERR_CLI_USAGE` for text that is not a JSON object, or `fields` that is not
 *   one.
 */
export function taskInput(type: string, text: string | undefined): Workitem {
  if (text === undefined || text.trim() === '') return buildWorkitem(type, undefined);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new TqError('TQ_ERR_CLI_USAGE', `the workitem is not JSON: ${(err as Error).message}`);
  }
  if (!isObject(parsed)) {
    throw new TqError('TQ_ERR_CLI_USAGE', 'the workitem must be a JSON object');
  }
  if (!('fields' in parsed)) return buildWorkitem(type, text);
  if (!isObject(parsed.fields)) {
    throw new TqError('TQ_ERR_CLI_USAGE', 'the workitem\'s "fields" must be a JSON object');
  }
  return parsed as Workitem;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
