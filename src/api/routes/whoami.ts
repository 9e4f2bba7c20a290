import type { FastifyInstance } from 'fastify';
import { capabilities } from '../auth/actions.js';
import { errorResponses } from './operate-schemas.js';

const CAN = {
  type: 'object',
  required: ['submit', 'retry', 'cancel', 'requeue', 'drop'],
  properties: {
    submit: { type: 'boolean' },
    retry: { type: 'boolean' },
    cancel: { type: 'boolean' },
    requeue: { type: 'boolean' },
    drop: { type: 'boolean' },
  },
} as const;

const WHOAMI_RESPONSE = {
  type: 'object',
  required: ['name', 'role', 'loopback', 'can'],
  properties: {
    name: { type: 'string', description: "the token's name; `loopback` when none was needed" },
    role: { type: 'string', enum: ['read', 'retry', 'operate'] },
    loopback: { type: 'boolean' },
    can: CAN,
  },
} as const;

/**
 * GET /v1/whoami (role read): the caller's token name and role, and what it may do, from the
 * same table the routes take their roles from (auth/actions.ts). The dashboard shows only the
 * buttons `can` allows; the routes refuse the others anyway.
 */
export function registerWhoami(app: FastifyInstance): void {
  app.get(
    '/v1/whoami',
    {
      config: { role: 'read' },
      schema: {
        summary: 'Who the token is, its role, and what it may do',
        response: { 200: WHOAMI_RESPONSE, ...errorResponses(401) },
      },
    },
    async (request) => {
      // The guard has let a caller in to get here: a read route always has one.
      const caller = request.caller!;
      return {
        name: caller.name,
        role: caller.role,
        loopback: caller.loopback,
        can: capabilities(caller.role),
      };
    },
  );
}
