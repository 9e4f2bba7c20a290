import type { FastifyInstance } from 'fastify';
import { soonestDelayed } from '../../cli/queues/delayed.js';
import type { QueuesReport } from '../../cli/queues/queue-row.js';
import { queuesReport } from '../../cli/queues/queues.js';
import type { Config } from '../../common/config/types.js';
import type { Logger } from '../../common/logger.js';
import type { TaskStore } from '../store/types.js';
import { asApiError, brokerConfig } from './broker-errors.js';
import { errorResponses, QUEUES_QUERY, QUEUES_RESPONSE } from './operate-schemas.js';
import { SharedAnswer } from './shared-answer.js';

/** How long one report answers every request (the dashboard asks every 5 s per open page). */
const REPORT_REUSE_MS = 2000;

/** Delayed tasks read from the store for the soonest (a page of the store's largest). */
const DELAYED_READ = 1000;

/**
 * GET /v1/queues: what `taskqueue queues --json` prints, from the management API (or passive
 * declares when it is not there, or with `?passive=true`). One report (one connection, as the
 * CLI's) answers every request of REPORT_REUSE_MS, however many pages ask. Its `delayed` says
 * what the delay ladder holds and, from the store, the delayed tasks due soonest.
 */
export function registerQueueRoutes(
  app: FastifyInstance,
  config: Config | undefined,
  log: Logger,
  store?: TaskStore,
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
        return await reports[onlyPassive ? 'passive' : 'management'].get(async () => {
          const report = await queuesReport(brokerConfig(config), log, {
            management: undefined,
            passive: onlyPassive,
            types: [],
          });
          if (store !== undefined) {
            // The store lists by creation, not due time: the soonest of the newest delayed.
            const page = await store.list({ state: ['delayed'], limit: DELAYED_READ });
            report.delayed.soonest = soonestDelayed(page.tasks);
            if (page.next !== undefined) {
              report.delayed.soonest_note = `only the newest ${DELAYED_READ} delayed tasks were read`;
            }
          }
          return report;
        });
      } catch (err) {
        throw asApiError(err);
      }
    },
  );
}
