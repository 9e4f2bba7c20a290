import { readFileSync } from 'node:fs';
import type { ListenAddress } from '../../common/config/listen-address.js';
import type { Config } from '../../common/config/types.js';
import { TqError } from '../../common/errors.js';

/** Where `taskqueue task|tasks` ask, and with which token (none: the API may let loopback in). */
export interface ApiTarget {
  /** Without a trailing slash. */
  url: string;
  token: string | undefined;
}

export interface ApiChoice {
  /** `--api URL`. */
  api?: string | undefined;
  /** `--token TOKEN` (visible to `ps`: prefer the file or the environment). */
  token?: string | undefined;
  /** `--token-file PATH`: its first line. */
  tokenFile?: string | undefined;
}

/**
 * The API to ask: `--api`, else TASKQUEUE_API_URL, else `[api] url`, else `[api] listen` when
 * the config has an [api] section (the API runs here). None of them: TQ_ERR_CLI_NO_API (78),
 * never a guess at a default address. The token: `--token`, else `--token-file`, else
 * TASKQUEUE_API_TOKEN, else none.
 */
export function apiTarget(
  config: Config,
  choice: ApiChoice,
  env: NodeJS.ProcessEnv = process.env,
): ApiTarget {
  const url =
    choice.api ||
    env.TASKQUEUE_API_URL ||
    config.api.url ||
    (config.api.written ? listenUrl(config.api.listen) : undefined);
  if (url === undefined) {
    throw new TqError(
      'TQ_ERR_CLI_NO_API',
      `no API configured: give --api URL, set TASKQUEUE_API_URL, or write [api] url (or listen) in ${config.file}`,
    );
  }
  if (!/^https?:\/\//.test(url)) {
    throw new TqError('TQ_ERR_CLI_NO_API', `the API address must be an http(s) URL: ${url}`);
  }
  return { url: url.replace(/\/+$/, ''), token: tokenOf(choice, env) };
}

function tokenOf(choice: ApiChoice, env: NodeJS.ProcessEnv): string | undefined {
  if (choice.token) return choice.token;
  if (choice.tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(choice.tokenFile, 'utf8');
    } catch (err) {
      throw new TqError(
        'TQ_ERR_CLI_NO_API',
        `--token-file ${choice.tokenFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { cause: err },
      );
    }
    const token = text.split('\n')[0]?.trim();
    if (!token) throw new TqError('TQ_ERR_CLI_NO_API', `--token-file ${choice.tokenFile} is empty`);
    return token;
  }
  return env.TASKQUEUE_API_TOKEN || undefined;
}

/** The address the API listens on, as a URL a local client can use (any address → loopback). */
export function listenUrl(listen: ListenAddress): string {
  const host = listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listen.port}`;
}
