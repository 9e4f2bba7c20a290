import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './http-errors.js';

/**
 * Where the built dashboard is (scripts/build-dashboard.mjs): next to the compiled API, as
 * `dist/dashboard/` beside `dist/api/`, in the source tree and in the Debian package alike.
 */
export const DASHBOARD_DIR = fileURLToPath(new URL('../dashboard/', import.meta.url));

/** Every dashboard answer carries these: the page may load only its own files, nothing inline. */
export const DASHBOARD_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // The names are not content-hashed (app.js): the browser asks again each time, the ETag
  // answers 304 when nothing changed.
  'cache-control': 'no-cache',
} as const;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

interface DashboardFile {
  body: Buffer;
  type: string;
  etag: string;
}

/** The built files in memory: `index.html` and each file under `assets/` by its path there. */
export interface DashboardFiles {
  index: DashboardFile;
  assets: Map<string, DashboardFile>;
}

function fileOf(path: string): DashboardFile {
  const body = readFileSync(path);
  const digest = createHash('sha256').update(body).digest('base64url').slice(0, 27);
  return {
    body,
    type: TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
    etag: `"${digest}"`,
  };
}

/**
 * Reads the built dashboard once (it does not change while the daemon runs: a new build comes
 * with a new package, and a restart). Undefined when `index.html` is not there (not built).
 */
export function loadDashboard(dir: string): DashboardFiles | undefined {
  if (!dashboardBuilt(dir)) return undefined;
  const indexPath = join(dir, 'index.html');
  const assets = new Map<string, DashboardFile>();
  const assetsDir = join(dir, 'assets');
  if (existsSync(assetsDir)) {
    for (const entry of readdirSync(assetsDir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      assets.set(
        path
          .slice(assetsDir.length + 1)
          .split('\\')
          .join('/'),
        fileOf(path),
      );
    }
  }
  return { index: fileOf(indexPath), assets };
}

/** True when the built dashboard is there (its index.html). */
export function dashboardBuilt(dir = DASHBOARD_DIR): boolean {
  return existsSync(join(dir, 'index.html'));
}

/** The dashboard's URL on the address the API listens on (an IPv6 one in brackets). */
export function dashboardUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}

function send(request: FastifyRequest, reply: FastifyReply, file: DashboardFile): FastifyReply {
  reply.headers({ ...DASHBOARD_HEADERS, etag: file.etag });
  const asked = request.headers['if-none-match'];
  if (asked?.split(/\s*,\s*/).includes(file.etag)) {
    return reply.code(304).send();
  }
  return reply.type(file.type).send(file.body);
}

/**
 * `GET /` (index.html) and `GET /assets/<file>`: public (role `public`, no token), from memory,
 * with an ETag and the headers above. Without a build, both answer 404
 * TQ_ERR_API_DASHBOARD_MISSING.
 */
export function registerDashboard(app: FastifyInstance, files: DashboardFiles | undefined): void {
  const missing = (reply: FastifyReply) =>
    sendError(reply, 'TQ_ERR_API_DASHBOARD_MISSING', 'the dashboard was not built: npm run build');
  const options = { config: { role: 'public' as const }, schema: { hide: true } };
  app.get('/', options, async (request, reply) =>
    files === undefined ? missing(reply) : send(request, reply, files.index),
  );
  app.get('/assets/*', options, async (request, reply) => {
    if (files === undefined) return missing(reply);
    const path = (request.params as { '*': string })['*'];
    const file = files.assets.get(path);
    if (file === undefined) {
      return sendError(reply, 'TQ_ERR_API_NOT_FOUND', `no dashboard file assets/${path}`);
    }
    return send(request, reply, file);
  });
}
