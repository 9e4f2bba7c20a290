import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../common/logger.js';
import { ACTION_ROLES } from '../auth/actions.js';
import type { PublishTask } from '../publish.js';
import { retryTask } from '../retry.js';
import type { StateChanges } from '../state-changes.js';
import type { TaskStore } from '../store/types.js';
import { replyWhenAsked } from '../submit.js';
import { ERROR_BODY, TASK_ID_PARAMS, TASK_RESPONSE } from './schemas.js';

export interface RetryRouteDeps {
  store: TaskStore;
  publish: PublishTask;
  changes: StateChanges;
  log: Logger;
  /** Seconds: the most `reply` may ask for. */
  maxReplyWait: number;
}

const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, ERROR_BODY]));

/**
 * POST /v1/tasks/{id}/retry (role retry): runs a failed, poisoned, incomplete or expired task
 * again under the same id (src/api/retry.ts). The body is optional: `{reply: N}` waits up to N s
 * for the new run's final state, as a submit does.
 */
export function registerRetry(app: FastifyInstance, deps: RetryRouteDeps): void {
  app.post(
    '/v1/tasks/:id/retry',
    {
      config: { role: ACTION_ROLES.retry },
      schema: {
        summary: 'Run a failed, poisoned, incomplete or expired task again (same id, next run)',
        params: TASK_ID_PARAMS,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: {
            reply: {
              type: 'number',
              minimum: 0,
              maximum: deps.maxReplyWait,
              description: "seconds to wait for the new run's final state before answering",
            },
          },
        },
        response: { 200: TASK_RESPONSE, ...errors(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const body = (request.body ?? {}) as { reply?: number };
      const { record, types } = await retryTask(deps, id);
      deps.log.info(
        { token: request.caller?.name, action: 'retry', taskId: id, run: record.run ?? 1, types },
        'task retried',
      );
      deps.changes.reportTask(record);
      const task = await replyWhenAsked(deps.store, deps.changes, record, body.reply, reply.raw);
      return reply.code(200).send({ task });
    },
  );
}
