import type { FastifyInstance } from 'fastify';
import { parseTokens } from '../../src/api/auth/tokens.js';
import type { PublishTask } from '../../src/api/publish.js';
import { buildServer } from '../../src/api/server.js';
import { createLogger } from '../../src/common/logger.js';
import { MemoryTaskStore } from './memory-store.js';

export const READ_TOKEN = 'reader-secret-0123456789';
export const OPERATE_TOKEN = 'operator-secret-0123456789';
export const RETRY_TOKEN = 'retrier-secret-0123456789';

/** The tokens file the API tests use: one token of each role. */
export const TEST_TOKENS = `# name role token
reader read ${READ_TOKEN}
operator operate ${OPERATE_TOKEN}
retrier retry ${RETRY_TOKEN}
`;

export interface TestApi {
  app: FastifyInstance;
  store: MemoryTaskStore;
  /** The daemon's log lines, parsed. */
  logs: Array<Record<string, unknown>>;
}

/**
 * The API server on an in-memory store (the real stores arrive with issue 28's store part),
 * publishing with `publish`.
 */
export async function testApi(
  publish: PublishTask,
  options: {
    loopbackWithoutToken?: boolean;
    maxBodySize?: number;
    /** A directory standing for dist/dashboard (the default). */
    dashboardDir?: string;
    /** `[api] dashboard`; default yes. */
    dashboard?: boolean;
  } = {},
): Promise<TestApi> {
  const store = new MemoryTaskStore();
  const logs: Array<Record<string, unknown>> = [];
  const log = createLogger('taskqueue-api', 'info', (line) => logs.push(JSON.parse(line)));
  const tokens = parseTokens(TEST_TOKENS, 'test tokens');
  const app = await buildServer({
    store,
    publish,
    tokens: () => tokens,
    loopbackWithoutToken: options.loopbackWithoutToken ?? false,
    maxBodySize: options.maxBodySize ?? 64 * 1024,
    maxReplyWait: 30,
    log,
    ...(options.dashboardDir === undefined ? {} : { dashboardDir: options.dashboardDir }),
    ...(options.dashboard === undefined ? {} : { dashboard: options.dashboard }),
  });
  return { app, store, logs };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
