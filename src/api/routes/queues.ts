import type { FastifyInstance } from 'fastify';
import type { QueuesReport } from '../../cli/queues/queue-row.js';
import { queuesReport } from '../../cli/queues/queues.js';
import type { Config } from '../../common/config/types.js';
import type { Logger } from '../../common/logger.js';
import { asApiError, brokerConfig } from './broker-errors.js';
import { errorResponses, QUEUES_QUERY, QUEUES_RESPONSE } from './operate-schemas.js';
import { SharedAnswer } from './shared-answer.js';

/** How long one report answers every request (the dashboard asks every 5 s per open page). */
const REPORT_REUSE_MS = 2000;

/**
 * GET /v1/queues: what `taskqueue queues --json` prints, from the management API (or passive
 * declares when it is not there, or with `?passive=true`). One report (one connection, as the
 * CLI's) answers every request of REPORT_REUSE_MS, however many pages ask.
 */
export function registerQueueRoutes(
  app: FastifyInstance,
  config: Config | undefined,
  log: Logger,
): void {
  const reports = {
    management: new SharedAnswer<QueuesReport>(REPORT_REUSE_MS),
    passive: new SharedAnswer<QueuesReport>(REPORT_REUSE_MS),
  };
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
      const onlyPassive = passive === 'true';
      try {
        return await reports[onlyPassive ? 'passive' : 'management'].get(() =>
          queuesReport(brokerConfig(config), log, {
            management: undefined,
            passive: onlyPassive,
            types: [],
          }),
        );
      } catch (err) {
        throw asApiError(err);
      }
    },
  );
}
