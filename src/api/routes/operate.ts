import type { FastifyInstance } from 'fastify';
import type { Config } from '../../common/config/types.js';
import type { Logger } from '../../common/logger.js';
import type { PoolRegistry } from '../pools/pool-registry.js';
import type { TaskStore } from '../store/types.js';
import { registerDeadRoutes } from './dead.js';
import { registerPoolRoutes } from './pools.js';
import { registerQueueRoutes } from './queues.js';

/** What the operating routes need from the daemon (all optional in ServerOptions). */
export interface OperateDeps {
  /** The pools' heartbeats; undefined when tracking is off. */
  pools?: PoolRegistry;
  /** The daemon's config: the broker, queue names and types for queues and dead letters. */
  config?: Config;
  /** The tasks: GET /v1/queues lists the delayed ones due soonest from it. */
  store?: TaskStore;
  log: Logger;
}

/** Pools, queues and dead letters (docs/api.md "Operating"). */
export function registerOperateRoutes(app: FastifyInstance, deps: OperateDeps): void {
  registerPoolRoutes(app, deps.pools);
  registerQueueRoutes(app, deps.config, deps.log, deps.store);
  registerDeadRoutes(app, deps.config, deps.log);
}
