import type { FastifyInstance } from 'fastify';
import { TqError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { ACTION_ROLES } from '../auth/actions.js';
import type { PublishCancel } from '../cancel.js';
import { cancelDelayedAtOnce } from '../cancel-delayed.js';
import { isFinal } from '../store/precedence.js';
import type { TaskStore } from '../store/types.js';
import { ERROR_BODY, TASK_ID_PARAMS, TASK_RESPONSE } from './schemas.js';

export interface CancelRouteOptions {
  store: TaskStore;
  cancel: PublishCancel;
  log: Logger;
}

/**
 * `POST /v1/tasks/:id/cancel` (operate): 404 for an unknown id, 409 TQ_ERR_API_TASK_FINAL for a
 * task already final, else the cancel is published to `taskqueue.cancels` (confirmed) and the
 * task answered with 202: the cancel is asked for, not done. A child that has not started the
 * task never runs it; one running it aborts its signal; the `cancelled` final (tracking on)
 * says when it is done, or another final says the task ended first (docs/api.md). A delayed task
 * is answered `cancelled` at once (cancel-delayed.ts).
 */
export function registerCancel(app: FastifyInstance, options: CancelRouteOptions): void {
  const { store, cancel, log } = options;
  app.post(
    '/v1/tasks/:id/cancel',
    {
      config: { role: ACTION_ROLES.cancel },
      schema: {
        summary: 'Cancel a task: never run if not started, its signal aborted if running',
        params: TASK_ID_PARAMS,
        response: {
          202: TASK_RESPONSE,
          ...Object.fromEntries([400, 401, 403, 404, 409, 503].map((s) => [s, ERROR_BODY])),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const task = await store.get(id);
      if (task === undefined) throw new TqError('TQ_ERR_API_TASK_NOT_FOUND', `no task ${id}`);
      if (isFinal(task.state))
        throw new TqError('TQ_ERR_API_TASK_FINAL', `task ${id} is ${task.state} already`, {
          details: { state: task.state },
        });
      const by = request.caller?.name ?? 'unknown';
      await cancel({ taskId: id, by });
      log.info(
        { token: request.caller?.name, action: 'cancel', taskId: id, state: task.state },
        'task cancel requested',
      );
      return reply.code(202).send({ task: await cancelDelayedAtOnce(store, task, new Date()) });
    },
  );
}
