import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, READ_TOKEN, type TestApi, testApi } from '../../support/api-server.js';

/**
 * GET /v1/stats/throughput and GET /v1/whoami through the server on the in-memory store (the
 * stores' throughput is asserted on all three in store-contract.test.ts; the roles against the
 * real daemon in api-operate.test.ts).
 */
const refuse = () => Promise.reject(new Error('no publish in these tests'));

describe('GET /v1/stats/throughput', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await testApi(refuse);
  });
  afterAll(async () => api?.app.close());

  const get = (query: string) =>
    api.app.inject({
      method: 'GET',
      url: `/v1/stats/throughput${query}`,
      headers: bearer(READ_TOKEN),
    });

  it('the last hour by minute by default, dense, oldest first, up to the bucket of now', async () => {
    const now = Date.now();
    const minute = Math.floor(now / 60_000) * 60_000;
    await api.store.apply({
      event: 'succeeded',
      taskId: 'a',
      type: 'e',
      at: new Date(now).toISOString(),
    });
    await api.store.apply({
      event: 'failed',
      taskId: 'b',
      type: 'e',
      at: new Date(minute - 30 * 60_000).toISOString(),
    });
    const response = await get('');
    expect(response.statusCode).toBe(200);
    const body = response.json() as {
      step: number;
      since: string;
      until: string;
      buckets: Array<{ at: string; succeeded: number; failed: number }>;
    };
    expect(body.step).toBe(60);
    // The minute may turn between the event and the request: the bucket of now is the last.
    expect(Date.parse(body.until)).toBeGreaterThanOrEqual(minute + 60_000);
    expect(Date.parse(body.until)).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(body.buckets).toHaveLength((Date.parse(body.until) - Date.parse(body.since)) / 60_000);
    expect(body.buckets.length).toBeGreaterThanOrEqual(60);
    expect(body.buckets[0]!.at).toBe(body.since);
    expect(body.buckets.at(-1)!.at).toBe(new Date(Date.parse(body.until) - 60_000).toISOString());
    const ofNow = body.buckets.find((b) => b.at === new Date(minute).toISOString());
    expect(ofNow).toMatchObject({ succeeded: 1, failed: 0 });
    const failed = body.buckets.find((b) => b.at === new Date(minute - 30 * 60_000).toISOString());
    expect(failed).toMatchObject({ failed: 1, succeeded: 0 });
    expect(body.buckets.reduce((n, b) => n + b.succeeded + b.failed, 0)).toBe(2);
  });

  it('a step of 300 or 3600 s; any other step, too many buckets or a bad since is 400', async () => {
    const hourly = await get(`?step=3600&since=${new Date(Date.now() - 86_400_000).toISOString()}`);
    expect(hourly.statusCode).toBe(200);
    expect(hourly.json().buckets.length).toBeGreaterThanOrEqual(24);
    expect((await get('?step=300')).json().step).toBe(300);
    for (const query of [
      '?step=61',
      '?step=60&since=2000-01-01T00:00:00Z',
      '?since=soon',
      '?colour=red',
    ]) {
      const response = await get(query);
      expect([response.statusCode, response.json().error.code], query).toEqual([
        400,
        'TQ_ERR_API_INVALID_REQUEST',
      ]);
    }
  });
});

describe('GET /v1/whoami from loopback without a token', () => {
  it('is `loopback`, role operate, when loopback needs no token', async () => {
    const api = await testApi(refuse, { loopbackWithoutToken: true });
    try {
      const response = await api.app.inject({ method: 'GET', url: '/v1/whoami' });
      expect(response.json()).toEqual({
        name: 'loopback',
        role: 'operate',
        loopback: true,
        can: { submit: true, retry: true, cancel: true, requeue: true, drop: true },
      });
    } finally {
      await api.app.close();
    }
  });
});
