import { ERROR_BODY } from './schemas.js';

/** The errors a route may answer with, for the OpenAPI description. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, ERROR_BODY]));

const NULLABLE_NUMBER = { type: ['number', 'null'] } as const;

/** GET /v1/queues: `taskqueue queues --json` (src/cli/queues/queue-row.ts QueuesReport). */
export const QUEUES_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    passive: {
      type: 'string',
      enum: ['true', 'false'],
      description: 'true: passive declares only, never the management API',
    },
  },
} as const;

export const QUEUES_RESPONSE = {
  type: 'object',
  required: ['source', 'management_url', 'management_error', 'unknown', 'queues'],
  properties: {
    source: { type: 'string', enum: ['management', 'passive'] },
    management_url: { type: ['string', 'null'] },
    management_error: {
      type: ['object', 'null'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
    unknown: { type: 'array', items: { type: 'string' } },
    queues: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'role', 'exists', 'ready', 'unacked', 'consumers'],
        properties: {
          name: { type: 'string' },
          role: { type: 'string' },
          exists: { type: 'boolean' },
          ready: NULLABLE_NUMBER,
          unacked: NULLABLE_NUMBER,
          consumers: NULLABLE_NUMBER,
          rate_in: NULLABLE_NUMBER,
          rate_out: NULLABLE_NUMBER,
        },
      },
    },
    delayed: {
      type: 'object',
      description:
        'the delay ladder (its level queues are the one row taskqueue.delay.* in queues) and the delayed tasks due soonest',
      properties: {
        total: NULLABLE_NUMBER,
        levels: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              level: { type: 'integer' },
              queue: { type: 'string' },
              holds_ms: { type: 'number' },
              tasks: NULLABLE_NUMBER,
            },
          },
        },
        due_within_ms: NULLABLE_NUMBER,
        soonest: {
          type: ['array', 'null'],
          items: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              type: { type: 'string' },
              due: { type: 'string' },
            },
          },
        },
        soonest_note: { type: ['string', 'null'] },
      },
    },
  },
} as const;

/** The type of a `.dead` queue, as the path names it. */
export const DEAD_PARAMS = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: { type: { type: 'string', minLength: 1, maxLength: 201 } },
} as const;

export const DEAD_LIST_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: '1 to 1000, default 100' },
  },
} as const;

const NULLABLE_STRING = { type: ['string', 'null'] } as const;
const NULLABLE_INTEGER = { type: ['integer', 'null'] } as const;

/** One parked task (src/cli/dead/parked-task.ts ParkedTask, as `dead list --json`). */
const PARKED_TASK = {
  type: 'object',
  properties: {
    message_id: NULLABLE_STRING,
    correlation_id: NULLABLE_STRING,
    type: NULLABLE_STRING,
    reason: NULLABLE_STRING,
    code: NULLABLE_STRING,
    attempt: NULLABLE_INTEGER,
    crashes: NULLABLE_INTEGER,
    crash_log: { type: 'array', items: { type: 'string' } },
    parked_at: NULLABLE_STRING,
    published_at: NULLABLE_STRING,
    bytes: { type: 'integer' },
    requeued: { type: 'integer' },
    delivery_count: NULLABLE_INTEGER,
  },
} as const;

export const DEAD_LIST_RESPONSE = {
  type: 'object',
  required: ['queue', 'total', 'shown', 'tasks'],
  properties: {
    queue: { type: 'string' },
    total: { ...NULLABLE_INTEGER, description: 'parked when the request started' },
    shown: { type: 'integer' },
    tasks: { type: 'array', items: PARKED_TASK },
  },
} as const;

/** POST …/requeue and …/drop: `ids` or `all`, never both, never neither. */
export const DEAD_ACTION_BODY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ids: {
      type: 'array',
      items: { type: 'string', minLength: 1, maxLength: 200 },
      minItems: 1,
      maxItems: 1000,
      uniqueItems: true,
      description: 'the tasks by message id (else correlation id)',
    },
    all: { type: 'boolean', description: 'true: every parked task (up to `limit`)' },
    limit: { type: 'integer', minimum: 1, description: 'at most this many' },
    dryRun: { type: 'boolean', description: 'say which would go; change nothing' },
  },
} as const;

export const DEAD_ACTION_RESPONSE = {
  type: 'object',
  required: ['queue', 'count', 'ids', 'missing', 'dryRun'],
  properties: {
    queue: { type: 'string' },
    /** requeue: where the tasks went. */
    input: { type: 'string' },
    count: { type: 'integer', description: 'tasks requeued or dropped (would be, on a dry run)' },
    ids: { type: 'array', items: { type: 'string' } },
    missing: { type: 'array', items: { type: 'string' }, description: 'ids not parked there' },
    dryRun: { type: 'boolean' },
  },
} as const;
