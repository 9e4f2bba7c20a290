import swagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Config } from '../common/config/types.js';
import { TqError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { ACTION_ROLES } from './auth/actions.js';
import { guard } from './auth/guard.js';
import type { ApiToken } from './auth/tokens.js';
import type { PublishCancel } from './cancel.js';
import { DASHBOARD_DIR, loadDashboard, registerDashboard } from './dashboard.js';
import { codeFor, sendError } from './http-errors.js';
import type { PoolRegistry } from './pools/pool-registry.js';
import type { PublishTask } from './publish.js';
import { registerCancel } from './routes/cancel.js';
import { registerEvents } from './routes/events.js';
import { parseListQuery } from './routes/list-query.js';
import { registerOperateRoutes } from './routes/operate.js';
import { registerRetry } from './routes/retry.js';
import {
  ERROR_BODY,
  LIST_QUERY,
  LIST_RESPONSE,
  SUBMIT_RESPONSE,
  submitBody,
  TASK_ID_PARAMS,
  TASK_RESPONSE,
} from './routes/schemas.js';
import { registerStats } from './routes/stats.js';
import { registerWhoami } from './routes/whoami.js';
import { StateChanges } from './state-changes.js';
import type { TaskStore } from './store/types.js';
import { replyWhenAsked, type SubmitRequest, submitTask } from './submit.js';

export interface ServerOptions {
  store: TaskStore;
  publish: PublishTask;
  tokens: () => readonly ApiToken[];
  loopbackWithoutToken: boolean;
  /** Bytes. */
  maxBodySize: number;
  /** Seconds. */
  maxReplyWait: number;
  log: Logger;
  /** Where the event stream hears of changes (the tracker reports to the same); one is made if not given. */
  changes?: StateChanges;
  /** The pools' heartbeats (GET /v1/pools); none when tracking is off. */
  pools?: PoolRegistry;
  /** The daemon's config, for the broker routes (queues, dead letters); they answer 503 without. */
  config?: Config;
  /** Publishes a cancel to `taskqueue.cancels`; without it there is no cancel route. */
  cancel?: PublishCancel;
  /** The dashboard at `/` (`[api] dashboard`); default yes. */
  dashboard?: boolean;
  /** Where the built dashboard is read from, once; default DASHBOARD_DIR (dist/dashboard). */
  dashboardDir?: string;
}

/** The API's own version (its paths say v1), not the package's. */
export const API_VERSION = '1.0.0';

/** The errors a route may answer with, for the OpenAPI description. */
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, ERROR_BODY]));

/**
 * The HTTP API (docs/api.md): every route validated by its JSON schema (no coercion, unknown
 * fields refused), guarded by a bearer token of the role it needs, every error `{error: {code,
 * message}}` with a stable code.
 */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { store, log } = options;
  const changes = options.changes ?? new StateChanges();
  const app = Fastify({
    bodyLimit: options.maxBodySize,
    logger: false,
    // Unknown fields refused rather than dropped; "5" is not a number: a client that sends the
    // wrong type hears so instead of having it guessed.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    schemaErrorFormatter: (errs, dataVar) => {
      const first = errs[0]!;
      const where = `${dataVar}${first.instancePath}`;
      const unknown = (first.params as { additionalProperty?: string }).additionalProperty;
      return new Error(
        first.keyword === 'additionalProperties' && unknown !== undefined
          ? `${where}: unknown field ${unknown}`
          : `${where} ${first.message ?? 'is invalid'}`,
      );
    },
  });

  // JSON only: fastify would also take text/plain, and a string body would then be reported as
  // a wrong type rather than a wrong media type.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((err: FastifyError | TqError, request, reply) => {
    const { code, message } = codeFor(err);
    if (code === 'TQ_ERR_API_INTERNAL' || code === 'TQ_ERR_API_PUBLISH') {
      log.error({ err, code, method: request.method, url: request.url }, message);
    }
    return sendError(reply, code, message);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      'TQ_ERR_API_NOT_FOUND',
      `no route ${request.method} ${request.url.split('?')[0]}`,
    ),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'taskqueue API',
        version: API_VERSION,
        description: 'Submit tasks and ask what happened to them (docs/api.md).',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
  });
  app.addHook(
    'onRequest',
    guard({ tokens: options.tokens, loopbackWithoutToken: options.loopbackWithoutToken }),
  );

  app.get('/openapi.json', { config: { role: 'read' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );

  app.post(
    '/v1/tasks',
    {
      config: { role: ACTION_ROLES.submit },
      schema: {
        summary: 'Submit a task',
        body: submitBody(options.maxReplyWait),
        response: {
          200: SUBMIT_RESPONSE,
          201: SUBMIT_RESPONSE,
          ...errors(400, 401, 403, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      const body = request.body as SubmitRequest;
      const { record, created } = await submitTask({ store, publish: options.publish }, body);
      log.info(
        {
          token: request.caller?.name,
          action: 'submit',
          taskId: record.id,
          types: record.types,
          created,
        },
        created ? 'task submitted' : 'task submitted again (idempotency key)',
      );
      if (created) changes.reportTask(record);
      const task = await replyWhenAsked(store, changes, record, body.reply, reply.raw);
      return reply.code(created ? 201 : 200).send({ task, created });
    },
  );

  app.get(
    '/v1/tasks/:id',
    {
      config: { role: 'read' },
      schema: {
        summary: 'A task by id, with its attempts and result',
        params: TASK_ID_PARAMS,
        response: { 200: TASK_RESPONSE, ...errors(400, 401, 404) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const task = await store.get(id);
      if (task === undefined) throw new TqError('TQ_ERR_API_TASK_NOT_FOUND', `no task ${id}`);
      return { task };
    },
  );

  app.get(
    '/v1/tasks',
    {
      config: { role: 'read' },
      schema: {
        summary: 'Tasks by state, type, time and a workitem field, newest first, by pages',
        querystring: LIST_QUERY,
        response: { 200: LIST_RESPONSE, ...errors(400, 401) },
      },
    },
    async (request) => {
      const query = parseListQuery(request.query as Record<string, string>);
      const page = await store.list(query);
      return page.next === undefined ? { tasks: page.tasks } : page;
    },
  );

  if (options.dashboard ?? true) {
    registerDashboard(app, loadDashboard(options.dashboardDir ?? DASHBOARD_DIR));
  }
  registerWhoami(app);
  registerStats(app, store);
  registerEvents(app, changes);
  registerOperateRoutes(app, options);
  if (options.cancel) registerCancel(app, { store, cancel: options.cancel, log });
  registerRetry(app, {
    store,
    publish: options.publish,
    changes,
    log,
    maxReplyWait: options.maxReplyWait,
  });

  return app;
}
