import type { FastifyInstance } from 'fastify';
import { queuesReport } from '../../cli/queues/queues.js';
import type { Config } from '../../common/config/types.js';
import type { Logger } from '../../common/logger.js';
import { asApiError, brokerConfig } from './broker-errors.js';
import { errorResponses, QUEUES_QUERY, QUEUES_RESPONSE } from './operate-schemas.js';

/**
 * GET /v1/queues: what `taskqueue queues --json` prints, from the management API (or passive
 * declares when it is not there, or with `?passive=true`). One connection a request, as the CLI.
 */
export function registerQueueRoutes(
  app: FastifyInstance,
  config: Config | undefined,
  log: Logger,
): void {
  app.get(
    '/v1/queues',
    {
      config: { role: 'read' },
      schema: {
        summary: 'Every queue of the system: ready, unacked, consumers, rates',
        querystring: QUEUES_QUERY,
        response: { 200: QUEUES_RESPONSE, ...errorResponses(400, 401, 503) },
      },
    },
    async (request) => {
      const { passive } = request.query as { passive?: 'true' | 'false' };
      try {
        return await queuesReport(brokerConfig(config), log, {
          management: undefined,
          passive: passive === 'true',
          types: [],
        });
      } catch (err) {
        throw asApiError(err);
      }
    },
  );
}
