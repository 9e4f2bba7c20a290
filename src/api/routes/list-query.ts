import { TqError } from '../../common/errors.js';
import { TASK_STATES, type TaskQuery, type TaskState } from '../store/types.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

const FIELD_PREFIX = 'field.';

const invalid = (message: string) => new TqError('TQ_ERR_API_INVALID_REQUEST', message);

/** An ISO time as the store compares it (UTC, milliseconds), or a refusal naming `name`. */
export function isoTime(name: string, value: string): string {
  // Date.parse takes many forms; only a full date (and optional time) is an ISO time here.
  const ms = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)
    ? Date.parse(value)
    : Number.NaN;
  if (Number.isNaN(ms))
    throw invalid(`querystring/${name} must be an ISO time (2026-12-06T10:00:00Z)`);
  return new Date(ms).toISOString();
}

/**
 * GET /v1/tasks's query (already checked against LIST_QUERY: known keys, strings) as a
 * TaskQuery. `field.<path>=value` compares the workitem's `fields.<path>` with the value as a
 * string; one field filter a request (what the store can index).
 *
 * @throws TqError TQ_ERR_API_INVALID_REQUEST
 */
export function parseListQuery(query: Record<string, string | undefined>): TaskQuery {
  const result: TaskQuery = { limit: DEFAULT_LIMIT };
  if (query.state !== undefined) {
    const states = query.state.split(',').map((s) => s.trim());
    for (const state of states) {
      if (!(TASK_STATES as readonly string[]).includes(state)) {
        throw invalid(`querystring/state: ${state} is not one of ${TASK_STATES.join(', ')}`);
      }
    }
    result.state = [...new Set(states)] as TaskState[];
  }
  if (query.type !== undefined) result.type = query.type;
  if (query.since !== undefined) result.since = isoTime('since', query.since);
  if (query.until !== undefined) result.until = isoTime('until', query.until);
  if (query.limit !== undefined) {
    const limit = Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw invalid(`querystring/limit must be an integer from 1 to ${MAX_LIMIT}`);
    }
    result.limit = limit;
  }
  if (query.cursor !== undefined) result.cursor = query.cursor;
  const fields = Object.keys(query).filter((key) => key.startsWith(FIELD_PREFIX));
  if (fields.length > 1) throw invalid('one field.<path> filter a request');
  const field = fields[0];
  if (field !== undefined) {
    const path = field.slice(FIELD_PREFIX.length);
    result.field = { path: `fields.${path}`, value: query[field]! };
  }
  return result;
}
