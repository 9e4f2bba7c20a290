import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATE_TOKEN, READ_TOKEN, TEST_TOKENS } from './api-server.js';
import { type Program, startApi, writeConfig } from './programs.js';

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
