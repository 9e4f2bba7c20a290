import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_DIR, DASHBOARD_HEADERS } from '../../../src/api/dashboard.js';
import { bearer, READ_TOKEN, type TestApi, testApi } from '../../support/api-server.js';

/**
 * The dashboard's files as the API serves them, from a directory standing for dist/dashboard (the
 * real one is built by scripts/build-dashboard.mjs; the browser tests use it): public, from
 * memory, with an ETag and the security headers; 404 TQ_ERR_API_DASHBOARD_MISSING when not built.
 */
const INDEX = '<!doctype html><title>taskqueue</title><script src="assets/app.js"></script>';
const APP = 'console.log("dashboard");';
const CSS = 'body { font-size: 16px }';
const refuse = () => Promise.reject(new Error('no publish in these tests'));

describe('the dashboard files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tq-dashboard-'));
  let api: TestApi;
  let base: string;

  beforeAll(async () => {
    mkdirSync(join(dir, 'assets', 'fonts'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'app.js'), APP);
    writeFileSync(join(dir, 'assets', 'app.css'), CSS);
    writeFileSync(join(dir, 'assets', 'fonts', 'a.woff2'), 'woff2');
    api = await testApi(refuse, { dashboardDir: dir });
    base = await api.app.listen({ host: '127.0.0.1', port: 0 });
    // Loaded once at start: a change on disk afterwards is not served.
    writeFileSync(join(dir, 'index.html'), 'changed');
  });

  afterAll(async () => {
    await api?.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const expectHeaders = (response: Response) => {
    for (const [name, value] of Object.entries(DASHBOARD_HEADERS)) {
      expect(response.headers.get(name), name).toBe(value);
    }
  };

  it('GET / is index.html without a token, with the headers, as loaded at start', async () => {
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expectHeaders(response);
    expect(await response.text()).toBe(INDEX);
  });

  it('assets by path, with their type; an unknown one is 404 TQ_ERR_API_NOT_FOUND', async () => {
    const js = await fetch(`${base}/assets/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expectHeaders(js);
    expect(await js.text()).toBe(APP);
    const css = await fetch(`${base}/assets/app.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).toBe(CSS);
    const font = await fetch(`${base}/assets/fonts/a.woff2`);
    expect(font.headers.get('content-type')).toBe('font/woff2');
    const none = await fetch(`${base}/assets/none.js`);
    expect(none.status).toBe(404);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe(
      'TQ_ERR_API_NOT_FOUND',
    );
    // Nothing outside assets/ is reachable through it.
    const out = await fetch(`${base}/assets/..%2Findex.html`);
    expect(out.status).toBe(404);
  });

  it('an ETag, and 304 when the browser has it', async () => {
    const first = await fetch(`${base}/assets/app.js`);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    const again = await fetch(`${base}/assets/app.js`, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.text()).toBe('');
    const other = await fetch(`${base}/`, { headers: { 'if-none-match': etag! } });
    expect(other.status).toBe(200);
    expect(other.headers.get('etag')).not.toBe(etag);
  });

  it('no other path is public: /v1 still wants a token, an unknown path too', async () => {
    expect((await fetch(`${base}/v1/tasks`)).status).toBe(401);
    expect((await fetch(`${base}/index.html`)).status).toBe(401);
    expect((await fetch(`${base}/v1/whoami`, { headers: bearer(READ_TOKEN) })).status).toBe(200);
  });

  it('the dashboard has no security headers on the API routes', async () => {
    const response = await fetch(`${base}/v1/whoami`, { headers: bearer(READ_TOKEN) });
    expect(response.headers.get('content-security-policy')).toBeNull();
  });
});

describe('the dashboard not built, or turned off', () => {
  it('GET / and /assets/… answer 404 TQ_ERR_API_DASHBOARD_MISSING, without a token', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tq-dashboard-none-'));
    const api = await testApi(refuse, { dashboardDir: empty });
    try {
      for (const path of ['/', '/assets/app.js']) {
        const response = await api.app.inject({ method: 'GET', url: path });
        expect(response.statusCode).toBe(404);
        expect(response.json()).toEqual({
          error: {
            code: 'TQ_ERR_API_DASHBOARD_MISSING',
            message: 'the dashboard was not built: npm run build',
          },
        });
      }
    } finally {
      await api.app.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('[api] dashboard = no: / is no route, behind the token as any unknown path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tq-dashboard-off-'));
    writeFileSync(join(dir, 'index.html'), INDEX);
    const api = await testApi(refuse, { dashboardDir: dir, dashboard: false });
    try {
      expect((await api.app.inject({ method: 'GET', url: '/' })).statusCode).toBe(401);
      const asked = await api.app.inject({ method: 'GET', url: '/', headers: bearer(READ_TOKEN) });
      expect(asked.statusCode).toBe(404);
      expect(asked.json().error.code).toBe('TQ_ERR_API_NOT_FOUND');
    } finally {
      await api.app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('by default it is read from dist/dashboard beside dist/api', () => {
    expect(DASHBOARD_DIR).toMatch(/\/dashboard\/$/);
  });
});
