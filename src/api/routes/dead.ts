import type { FastifyInstance, FastifyRequest } from 'fastify';
import { dropTasks } from '../../cli/dead/drop.js';
import { readParked } from '../../cli/dead/list.js';
import { requeueTasks } from '../../cli/dead/requeue.js';
import { isWorkerType } from '../../common/amqp/wire.js';
import type { Config } from '../../common/config/types.js';
import { TqError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { ACTION_ROLES } from '../auth/actions.js';
import { asApiError, brokerConfig } from './broker-errors.js';
import {
  DEAD_ACTION_BODY,
  DEAD_ACTION_RESPONSE,
  DEAD_LIST_QUERY,
  DEAD_LIST_RESPONSE,
  DEAD_PARAMS,
  errorResponses,
} from './operate-schemas.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

interface ActionBody {
  ids?: string[];
  all?: boolean;
  limit?: number;
  dryRun?: boolean;
}

/**
 * Dead letters, as `taskqueue dead list|requeue|drop` (src/cli/dead/, the same code):
 * `/v1/dead/:type` is `worker_<type>.dead`, `/v1/invalid` the input queue's `.invalid`.
 * Listing takes nothing (every task looked at goes back in its place); requeue copies each
 * chosen task to the input queue and takes the original only once the copy is confirmed; drop
 * deletes exactly those chosen. requeue needs `retry`, drop `operate` (auth/actions.ts); both are
 * logged with the token's name.
 */
export function registerDeadRoutes(
  app: FastifyInstance,
  config: Config | undefined,
  log: Logger,
): void {
  for (const prefix of ['/v1/dead/:type', '/v1/invalid']) {
    const params = prefix === '/v1/invalid' ? {} : { params: DEAD_PARAMS };
    const what = prefix === '/v1/invalid' ? "the input queue's .invalid" : 'worker_TYPE.dead';

    app.get(
      prefix,
      {
        config: { role: 'read' },
        schema: {
          summary: `The parked tasks of ${what}, oldest first (nothing is taken)`,
          ...params,
          querystring: DEAD_LIST_QUERY,
          response: { 200: DEAD_LIST_RESPONSE, ...errorResponses(400, 401, 404, 503) },
        },
      },
      async (request) => {
        const type = typeOf(request);
        const { limit } = request.query as { limit?: string };
        const result = await onBroker(() =>
          readParked(brokerConfig(config), log, {
            type,
            ids: undefined,
            limit: checkedLimit(limit === undefined ? DEFAULT_LIMIT : Number(limit)),
          }),
        );
        return { ...result, shown: result.tasks.length };
      },
    );

    app.post(
      `${prefix}/requeue`,
      {
        config: { role: ACTION_ROLES.requeue },
        schema: {
          summary: `Send parked tasks of ${what} back to the input queue (by id, or all)`,
          ...params,
          body: DEAD_ACTION_BODY,
          response: { 200: DEAD_ACTION_RESPONSE, ...errorResponses(400, 401, 403, 404, 503) },
        },
      },
      async (request) => {
        const type = typeOf(request);
        const chosen = choice(request.body as ActionBody);
        const outcome = await onBroker(() =>
          requeueTasks(brokerConfig(config), log, { type, ...chosen }),
        );
        const answer = {
          queue: outcome.queue,
          input: outcome.input,
          count: chosen.dryRun ? outcome.ids.length : outcome.moved,
          ids: outcome.ids,
          missing: missing(chosen.ids, outcome.found),
          dryRun: chosen.dryRun,
        };
        log.info(
          {
            token: request.caller?.name,
            action: 'dead.requeue',
            queue: outcome.queue,
            count: answer.count,
            ids: outcome.ids,
            dryRun: chosen.dryRun,
          },
          chosen.dryRun ? 'dead letters to requeue (dry run)' : 'dead letters requeued',
        );
        if (outcome.failure !== undefined) {
          throw new TqError(
            'TQ_ERR_API_BROKER',
            `requeued ${outcome.moved} of ${outcome.ids.length} task(s) before an error; the others stay parked: ${(outcome.failure as Error).message}`,
            { cause: outcome.failure },
          );
        }
        return notFoundIfNone(chosen.ids, outcome.found, answer);
      },
    );

    app.post(
      `${prefix}/drop`,
      {
        config: { role: ACTION_ROLES.drop },
        schema: {
          summary: `Delete parked tasks of ${what} for good (by id, or all)`,
          ...params,
          body: DEAD_ACTION_BODY,
          response: { 200: DEAD_ACTION_RESPONSE, ...errorResponses(400, 401, 403, 404, 503) },
        },
      },
      async (request) => {
        const type = typeOf(request);
        const chosen = choice(request.body as ActionBody);
        // The request itself is the operator's yes: there is no terminal to ask on.
        const outcome = await onBroker(() =>
          dropTasks(brokerConfig(config), log, { type, ...chosen }, async () => true),
        );
        const answer = {
          queue: outcome.queue,
          count: outcome.ids.length,
          ids: outcome.ids,
          missing: missing(chosen.ids, outcome.found),
          dryRun: chosen.dryRun,
        };
        log.info(
          {
            token: request.caller?.name,
            action: 'dead.drop',
            queue: outcome.queue,
            count: answer.count,
            ids: outcome.ids,
            dryRun: chosen.dryRun,
          },
          chosen.dryRun ? 'dead letters to drop (dry run)' : 'dead letters dropped',
        );
        return notFoundIfNone(chosen.ids, outcome.found, answer);
      },
    );
  }
}

/** The path's type (checked as the CLI checks TYPE), or undefined for `/v1/invalid`. */
function typeOf(request: FastifyRequest): string | undefined {
  const { type } = (request.params ?? {}) as { type?: string };
  if (type !== undefined && !isWorkerType(type)) {
    throw new TqError('TQ_ERR_API_INVALID_REQUEST', `params/type: not a worker type: ${type}`);
  }
  return type;
}

function checkedLimit(limit: number): number {
  if (limit < 1 || limit > MAX_LIMIT) {
    throw new TqError('TQ_ERR_API_INVALID_REQUEST', `limit must be 1 to ${MAX_LIMIT}`);
  }
  return limit;
}

/** `ids` or `all: true`, as `--id` or `--all`: one of them, always. */
function choice(body: ActionBody): {
  ids: string[] | undefined;
  limit: number;
  dryRun: boolean;
} {
  if (body.ids !== undefined && body.all !== undefined) {
    throw new TqError('TQ_ERR_API_INVALID_REQUEST', 'body: give ids or all, not both');
  }
  if (body.ids === undefined && body.all !== true) {
    throw new TqError('TQ_ERR_API_INVALID_REQUEST', 'body: give ids (a list) or all: true');
  }
  return {
    ids: body.ids,
    limit: body.limit ?? Number.POSITIVE_INFINITY,
    dryRun: body.dryRun ?? false,
  };
}

function missing(ids: string[] | undefined, found: Set<string>): string[] {
  return (ids ?? []).filter((id) => !found.has(id));
}

/** Some ids found: the answer says which were not. None of them: 404. */
function notFoundIfNone<T>(ids: string[] | undefined, found: Set<string>, answer: T): T {
  if (ids !== undefined && found.size === 0) {
    throw new TqError('TQ_ERR_DEAD_NOT_FOUND', `not parked there: ${ids.join(', ')}`);
  }
  return answer;
}

async function onBroker<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw asApiError(err);
  }
}
