/** The JSON schemas of GET /v1/pools (see pools.ts; the shape is PoolView, pool-registry.ts). */

const CHILD = {
  type: 'object',
  required: ['pid', 'slot', 'state', 'tasksDone', 'inHand', 'restarts'],
  properties: {
    pid: { type: ['integer', 'null'] },
    slot: { type: 'integer' },
    state: { type: 'string' },
    tasksDone: { type: 'integer' },
    inHand: { type: 'integer', description: 'tasks it holds now' },
    waiting: {
      type: 'integer',
      description:
        "of inHand, tasks held but not started (the group's concurrency is reached); absent from a pool older than this field",
    },
    restarts: { type: 'integer', description: 'unasked ends of the children of its slot' },
  },
} as const;

const GROUP = {
  type: 'object',
  required: ['name', 'type', 'state', 'user', 'wanted', 'running', 'restarts', 'children'],
  properties: {
    name: { type: 'string' },
    type: { type: 'string' },
    state: { type: 'string' },
    user: { type: 'string' },
    wanted: { type: 'integer' },
    running: { type: 'integer', description: 'children ready and consuming' },
    restarts: { type: 'integer' },
    children: { type: 'array', items: CHILD },
  },
} as const;

const POOL = {
  type: 'object',
  required: ['host', 'pid', 'version', 'state', 'at', 'receivedAt', 'intervalS', 'groups'],
  properties: {
    host: { type: 'string' },
    pid: { type: 'integer' },
    version: { type: 'string' },
    state: {
      type: 'string',
      enum: ['running', 'stopped', 'stale'],
      description: 'stale: no heartbeat for 3 intervals',
    },
    at: { type: 'string', description: "when the pool sent its last heartbeat (the pool's clock)" },
    receivedAt: { type: 'string', description: 'when this API daemon received it' },
    startedAt: { type: 'string' },
    intervalS: { type: 'number' },
    groups: { type: 'array', items: GROUP },
    refused: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'code'],
        properties: { name: { type: 'string' }, code: { type: 'string' } },
      },
    },
  },
} as const;

export const POOLS_RESPONSE = {
  type: 'object',
  required: ['heartbeats', 'pools'],
  properties: {
    heartbeats: {
      type: 'boolean',
      description: 'false: [tracking] is off here, so no heartbeat is listened for',
    },
    pools: { type: 'array', items: POOL },
  },
} as const;
