import type { FastifyInstance } from 'fastify';
import type { PoolRegistry } from '../pools/pool-registry.js';
import { errorResponses } from './operate-schemas.js';
import { POOLS_RESPONSE } from './pools-schemas.js';

/**
 * GET /v1/pools: every pool on every host, from their heartbeats (`[tracking] enabled = yes`
 * on the pools and here). Without a registry (tracking off) the list is empty and says why.
 */
export function registerPoolRoutes(app: FastifyInstance, pools: PoolRegistry | undefined): void {
  app.get(
    '/v1/pools',
    {
      config: { role: 'read' },
      schema: {
        summary: 'Every worker pool heard of, with its groups and children (heartbeats)',
        response: { 200: POOLS_RESPONSE, ...errorResponses(401) },
      },
    },
    async () => ({ heartbeats: pools !== undefined, pools: pools?.list() ?? [] }),
  );
}
