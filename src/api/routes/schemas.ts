import { TASK_STATES } from '../store/types.js';

/**
 * The JSON schemas of the routes: fastify validates every request with them (unknown fields
 * refused, no type coercion, see server.ts) and @fastify/swagger describes the API from them.
 */

export const ERROR_BODY = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

const ATTEMPT = {
  type: 'object',
  additionalProperties: true,
  properties: {
    attempt: { type: 'integer' },
    run: { type: 'integer', description: 'the run it belongs to (retries); absent: the first' },
    host: { type: 'string' },
    pid: { type: 'integer' },
    user: { type: 'string' },
    startedAt: { type: 'string' },
    endedAt: { type: 'string' },
    error: { type: 'string' },
    errorCode: { type: 'string' },
    crashLog: { type: 'array', items: { type: 'string' } },
  },
} as const;

const RESPONSE = {
  type: 'object',
  additionalProperties: true,
  properties: {
    type: { type: 'string' },
    state: { type: 'string', enum: TASK_STATES },
    result: {},
    resultTruncated: { type: 'boolean' },
    error: { type: 'string' },
    errorCode: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

/** A TaskRecord (src/api/store/types.ts). */
export const TASK = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    type: { type: 'string' },
    types: { type: 'array', items: { type: 'string' } },
    state: { type: 'string', enum: TASK_STATES },
    source: { type: 'string', enum: ['api', 'queue'] },
    idempotencyKey: { type: 'string' },
    workitem: {},
    workitemTruncated: { type: 'boolean' },
    result: {},
    resultTruncated: { type: 'boolean' },
    resultCap: { type: 'integer' },
    run: { type: 'integer', description: 'one more per retry; absent: the first run' },
    attempts: { type: 'array', items: ATTEMPT },
    responses: { type: 'array', items: RESPONSE },
    nextAttemptAt: { type: 'string' },
    notBefore: {
      type: 'string',
      description: 'submitted to start no earlier than this (ISO); a retry runs without it',
    },
    expiresAt: {
      type: 'string',
      description: 'submitted not to start after this (ISO); a retry runs without it',
    },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    finishedAt: { type: 'string' },
  },
} as const;

const TYPE_NAME = { type: 'string', minLength: 1, maxLength: 201 } as const;
/** Fan-out is for a few types; a long list is more likely a mistake than a design. */
export const MAX_FANOUT = 32;

/** POST /v1/tasks. */
export function submitBody(maxReplyWait: number) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      type: { ...TYPE_NAME, description: 'the worker type (or give `types`)' },
      types: {
        type: 'array',
        items: TYPE_NAME,
        minItems: 1,
        maxItems: MAX_FANOUT,
        uniqueItems: true,
        description: 'fan-out: one task id, one response per type',
      },
      fields: { type: 'object', description: "the workitem's fields (or give `workitem`)" },
      workitem: {
        type: 'object',
        required: ['fields'],
        properties: { fields: { type: 'object' } },
        description: 'a whole Ruote workitem',
      },
      idempotencyKey: {
        type: 'string',
        minLength: 1,
        maxLength: 200,
        description: 'a second submit with the same key returns the first task',
      },
      reply: {
        type: 'number',
        minimum: 0,
        maximum: maxReplyWait,
        description: 'seconds to wait for a final state before answering',
      },
      // Ranges of times and delays are checked by submit.ts (TQ_ERR_DELAY_INVALID), not here.
      priority: {
        type: 'integer',
        minimum: 0,
        maximum: 255,
        description: "AMQP priority, honoured up to the type's max_priority (docs/priorities.md)",
      },
      notBefore: {
        type: 'string',
        maxLength: 64,
        description: 'ISO 8601 with a zone: the task waits in the broker until then (or `delay`)',
      },
      delay: {
        type: 'number',
        description:
          'seconds from now the task waits in the broker, at most 7 days (or `notBefore`)',
      },
      expiresAt: {
        type: 'string',
        maxLength: 64,
        description: 'ISO 8601 with a zone: not run if not started by then (or `ttl`)',
      },
      ttl: {
        type: 'number',
        description:
          'seconds after the task is due: not run if not started by then (or `expiresAt`)',
      },
    },
  } as const;
}

export const SUBMIT_RESPONSE = {
  type: 'object',
  required: ['task', 'created'],
  properties: { task: TASK, created: { type: 'boolean' } },
} as const;

export const TASK_ID_PARAMS = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

export const TASK_RESPONSE = {
  type: 'object',
  required: ['task'],
  properties: { task: TASK },
} as const;

/** GET /v1/tasks: every value a string (no coercion), parsed by list.ts. */
export const LIST_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state: { type: 'string', description: 'comma-separated states' },
    type: TYPE_NAME,
    since: { type: 'string', description: 'ISO time, on createdAt (inclusive)' },
    until: { type: 'string', description: 'ISO time, on createdAt (exclusive)' },
    limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: '1 to 1000, default 100' },
    cursor: { type: 'string', maxLength: 1000 },
  },
  patternProperties: {
    '^field\\.[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$': {
      type: 'string',
      description: 'a workitem field by dotted path under `fields` equals this value',
    },
  },
} as const;

export const LIST_RESPONSE = {
  type: 'object',
  required: ['tasks'],
  properties: { tasks: { type: 'array', items: TASK }, next: { type: 'string' } },
} as const;

/** GET /v1/events. */
export const EVENTS_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 200, description: 'only this task' },
    type: { ...TYPE_NAME, description: 'only tasks addressed to this type' },
  },
} as const;
