import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { MetricsConfig } from '../config/types.js';
import { TqError } from '../errors.js';
import type { Logger } from '../logger.js';
import { bearerMatches, readMetricsToken } from './token.js';

/** The only path served; anything else is 404. */
export const METRICS_PATH = '/metrics';

/** A scrape is one small request: a peer slower than this is holding a socket for nothing. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface MetricsServer {
  /** The address it listens on (the real port when `metrics_listen` said 0). */
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/**
 * Serves the registry `makeRegistry` makes on `GET /metrics` at `config.listen`, to requests that carry the token of
 * `config.tokenFile` (docs/metrics.md says why a token: a loopback port is open to every local
 * user). Undefined when `metrics_listen` is off. Throws TQ_ERR_METRICS_TOKEN (the token cannot
 * be read) or TQ_ERR_METRICS_LISTEN, before the daemon connects anywhere.
 */
export async function startMetricsServer(
  config: MetricsConfig,
  makeRegistry: () => Promise<Registry>,
  log: Logger,
): Promise<MetricsServer | undefined> {
  const { listen, tokenFile } = config;
  if (!listen) return undefined;
  const token = tokenFile === undefined ? undefined : readMetricsToken(tokenFile);
  // Made only now: with metrics off, prom-client is not even loaded.
  const registry = await makeRegistry();
  const server = createServer((req, res) => void answer(req, res, registry, token, log));
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  server.maxHeadersCount = 50;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new TqError(
          'TQ_ERR_METRICS_LISTEN',
          `metrics_listen ${listen.host}:${listen.port}: ${err.message}`,
          { cause: err },
        ),
      ),
    );
    server.listen({ host: listen.host, port: listen.port }, () => resolve());
  });
  server.on('error', (err) => log.error({ err: err.message }, 'metrics endpoint error'));
  const address = server.address() as AddressInfo;
  log.info(
    { host: address.address, port: address.port, token: token !== undefined },
    'metrics endpoint listening',
  );
  if (!token)
    log.warn('metrics_token_file = none: anyone who can connect to the metrics endpoint reads it');
  return { address, close: () => closeServer(server) };
}

async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  registry: Registry,
  token: Buffer | undefined,
  log: Logger,
): Promise<void> {
  const path = (req.url ?? '').split('?', 1)[0];
  if (path !== METRICS_PATH) return end(res, 404, 'not found\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') return end(res, 405, 'GET only\n');
  if (token && !bearerMatches(req.headers.authorization, token)) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="taskqueue metrics"');
    return end(res, 401, 'a bearer token is required (docs/metrics.md)\n');
  }
  try {
    const text = await registry.metrics();
    res.setHeader('Content-Type', registry.contentType);
    end(res, 200, req.method === 'HEAD' ? '' : text);
  } catch (err) {
    log.error({ err: (err as Error).message }, 'metrics collection failed');
    end(res, 500, 'collection failed\n');
  }
}

function end(res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  if (!res.hasHeader('Content-Type')) res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(body);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
