import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATE_TOKEN, READ_TOKEN, TEST_TOKENS } from './api-server.js';
import {
  type Program,
  startApi,
  startDispatcher,
  startPool,
  testConfig,
  writeConfig,
} from './programs.js';

/** A real `taskqueue-api` on a free port with a SQLite store in a temp dir, and how to ask it. */
export interface RunningApi {
  program: Program;
  base: string;
  configFile: string;
  get(path: string, token?: string): Promise<Response>;
  post(path: string, body: unknown, token?: string): Promise<Response>;
  stop(): Promise<void>;
}

/**
 * Starts the API daemon with `config` (the [amqp] and other sections) plus an [api] section of
 * its own (listen on a free port, the test tokens, a SQLite file), and waits until it is ready.
 */
export async function startTestApi(config: string): Promise<RunningApi> {
  const { file, dir, cleanup } = writeConfig('');
  const tokens = join(dir, 'api.tokens');
  writeFileSync(tokens, TEST_TOKENS);
  chmodSync(tokens, 0o600);
  writeFileSync(
    file,
    `${config}\n[api]\nlisten = 127.0.0.1:0\ntokens_file = ${tokens}\nstore = ${join(dir, 'tasks.db')}\n`,
  );
  const program = startApi(file);
  const line = await program.waitFor(/"API listening"/);
  const { port } = JSON.parse(line) as { port: number };
  // Listening comes before the broker is reached (reads work, submits answer 503 until then):
  // the tests submit, so they wait for `ready`.
  await program.waitFor(/"msg":"ready"/);
  const base = `http://127.0.0.1:${port}`;
  const headers = (token: string) => ({ authorization: `Bearer ${token}` });
  return {
    program,
    base,
    configFile: file,
    get: (path, token = READ_TOKEN) => fetch(`${base}${path}`, { headers: headers(token) }),
    post: (path, body, token = OPERATE_TOKEN) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { ...headers(token), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    stop: async () => {
      await program.stop();
      cleanup();
    },
  };
}

/** Asks `probe` every 100 ms until it returns a value (not undefined); fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not seen within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `taskqueue-api` beside a real dispatcher and pool, all with [tracking] on. */
export interface ApiStack {
  base: string;
  api: Program;
  dispatcher: Program;
  pool: Program;
  /** One request; the answer's status and JSON body. */
  call(
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<{ status: number; json: Record<string, unknown> }>;
  stop(): Promise<void>;
}

/**
 * The whole system as installed, on `url`: the pool runs `types` (testConfig), `sections` go in
 * the config as they are, and the API gets an [api] section of its own (a free port, the test
 * tokens, `store` or a SQLite file in a temp dir) followed by `apiLines`. Resolves once the API
 * is ready (it listens, and reached the broker).
 */
export async function startApiStack(
  url: string,
  types: string[],
  options: {
    sections?: string;
    store?: string;
    apiLines?: string[];
    trackingLines?: string[];
  } = {},
): Promise<ApiStack> {
  const { file, dir, cleanup } = writeConfig('');
  const tokens = join(dir, 'api.tokens');
  writeFileSync(tokens, TEST_TOKENS);
  chmodSync(tokens, 0o600);
  const api = [
    '[api]',
    'listen = 127.0.0.1:0',
    `tokens_file = ${tokens}`,
    `store = ${options.store ?? join(dir, 'tasks.db')}`,
    ...(options.apiLines ?? []),
  ];
  writeFileSync(
    file,
    testConfig(
      url,
      types,
      `${options.sections ?? ''}\n[tracking]\nenabled = yes\n${(options.trackingLines ?? []).join('\n')}\n\n${api.join('\n')}\n`,
    ),
  );
  const programs = {
    api: startApi(file),
    dispatcher: startDispatcher(file),
    pool: startPool(file),
  };
  const stop = async () => {
    await Promise.all(Object.values(programs).map((program) => program.stop()));
    cleanup();
  };
  try {
    const line = await programs.api.waitFor(/"API listening"/);
    await programs.api.waitFor(/"msg":"ready"/);
    const base = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
    return {
      base,
      ...programs,
      stop,
      async call(method, path, token, body) {
        const response = await fetch(`${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return {
          status: response.status,
          json: (await response.json()) as Record<string, unknown>,
        };
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
