import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGet, apiPost } from '../../../src/cli/api/client.js';

/** What the server saw of the last request. */
interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('apiGet / apiPost', () => {
  let server: Server;
  let base: string;
  let seen: Seen;

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        seen = { method: request.method, url: request.url, headers: request.headers, body };
        response.setHeader('content-type', 'application/json');
        if (request.url === '/refused') {
          response.statusCode = 409;
          response.end(
            JSON.stringify({ error: { code: 'TQ_ERR_API_NOT_RETRYABLE', message: 'no' } }),
          );
        } else if (request.url === '/html') {
          response.statusCode = 502;
          response.setHeader('content-type', 'text/html');
          response.end('<html>bad gateway</html>');
        } else response.end(JSON.stringify({ ok: true }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('POSTs the body as JSON with the token; GET sends no body', async () => {
    expect(await apiPost({ url: base, token: 'tok' }, '/v1/tasks/x/retry', {})).toEqual({
      ok: true,
    });
    expect(seen).toMatchObject({ method: 'POST', url: '/v1/tasks/x/retry', body: '{}' });
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.headers.authorization).toBe('Bearer tok');
    expect(await apiGet({ url: base, token: undefined }, '/v1/tasks/x')).toEqual({ ok: true });
    expect(seen).toMatchObject({ method: 'GET', body: '' });
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['content-type']).toBeUndefined();
  });

  it("the same errors for both: the API's refusal with its code, an answer without JSON", async () => {
    const target = { url: base, token: undefined };
    await expect(apiPost(target, '/refused', {})).rejects.toMatchObject({
      code: 'TQ_ERR_CLI_API_REFUSED',
      details: { status: 409, apiCode: 'TQ_ERR_API_NOT_RETRYABLE' },
    });
    await expect(apiGet(target, '/refused')).rejects.toMatchObject({
      code: 'TQ_ERR_CLI_API_REFUSED',
    });
    await expect(apiPost(target, '/html', {})).rejects.toMatchObject({
      code: 'TQ_ERR_CLI_API_UNREACHABLE',
    });
    await expect(
      apiPost({ url: 'http://127.0.0.1:9', token: undefined }, '/x', {}),
    ).rejects.toMatchObject({ code: 'TQ_ERR_CLI_API_UNREACHABLE' });
  });
});
