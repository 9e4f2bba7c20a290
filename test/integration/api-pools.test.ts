import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PoolView } from '../../src/api/pools/pool-registry.js';
import { eventually, type RunningApi, startTestApi } from '../support/api-program.js';
import { bearer } from '../support/api-server.js';
import { useVhost } from '../support/broker.js';
import { type Program, startPool, testConfig, writeConfig } from '../support/programs.js';

/**
 * GET /v1/pools from the pools' heartbeats: the real pool and the real API daemon on a real
 * broker, tracking on, heartbeats every second. A pool shows with its groups and children; one
 * that stops says so; one killed -9 turns stale; a restarted API knows the pools again.
 */
const TRACKING = '[tracking]\nenabled = yes\nheartbeat_interval = 1\n';

describe('GET /v1/pools', () => {
  let url: string;
  let api: RunningApi;
  const pools: Program[] = [];
  const cleanups: Array<() => void> = [];

  beforeAll(async () => {
    url = await useVhost('api-pools');
    api = await startTestApi(`[amqp]\nurl = ${url}\nconnect_retries = 60\n\n${TRACKING}`);
  });

  afterAll(async () => {
    for (const pool of pools) await pool.stop();
    await api?.stop();
    for (const cleanup of cleanups) cleanup();
  });

  function pool(): Program {
    const { file, cleanup } = writeConfig(
      testConfig(url, ['echo'], `[echo]\nworkers = 2\n\n${TRACKING}`),
    );
    cleanups.push(cleanup);
    const started = startPool(file);
    pools.push(started);
    return started;
  }

  const poolsNow = async (target = api): Promise<PoolView[]> => {
    const response = await target.get('/v1/pools');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { heartbeats: boolean; pools: PoolView[] };
    expect(body.heartbeats).toBe(true);
    return body.pools;
  };
  const seen = (pid: number, state: PoolView['state'], running?: number, target = api) =>
    eventually(async () => {
      const found = (await poolsNow(target)).find((p) => p.pid === pid);
      if (found?.state !== state) return undefined;
      if (running !== undefined && found.groups[0]?.running !== running) return undefined;
      return found;
    }, `pool ${pid} ${state}`);

  it('shows a running pool with its groups and children, then its stop', async () => {
    const first = pool();
    await first.waitForRunning('echo', 2);
    const view = await seen(first.pid, 'running', 2);
    expect(view.host).toBe(hostname());
    expect(view.intervalS).toBe(1);
    expect(view.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(view.groups).toHaveLength(1);
    const [group] = view.groups;
    expect(group).toMatchObject({ name: 'echo', type: 'echo', wanted: 2, running: 2 });
    expect(group!.children.map((c) => c.state)).toEqual(['running', 'running']);
    for (const child of group!.children) expect(child.pid).toBeGreaterThan(0);
    // Idle children: nothing in hand, nothing waiting (the API's schema keeps both counts).
    for (const child of group!.children) expect(child).toMatchObject({ inHand: 0, waiting: 0 });
    expect(typeof group!.user).toBe('string');

    await first.stop();
    const stopped = await seen(first.pid, 'stopped');
    expect(stopped.groups[0]?.running ?? 0).toBe(0);
  });

  it('a pool killed -9 (no last heartbeat) turns stale after 3 intervals', async () => {
    const second = pool();
    await second.waitForRunning('echo', 2);
    await seen(second.pid, 'running', 2);
    second.process.kill('SIGKILL');
    await second.exited();
    const stale = await seen(second.pid, 'stale');
    expect(stale.groups[0]?.wanted).toBe(2);
  });

  it('a restarted API daemon learns the running pools within an interval or so', async () => {
    const third = pool();
    await third.waitForRunning('echo', 2);
    await seen(third.pid, 'running', 2);
    const other = await startTestApi(`[amqp]\nurl = ${url}\nconnect_retries = 60\n\n${TRACKING}`);
    try {
      const view = await seen(third.pid, 'running', 2, other);
      expect(view.groups[0]?.children).toHaveLength(2);
      // It never heard of the pools that stopped before it started.
      expect((await poolsNow(other)).map((p) => p.pid)).toEqual([third.pid]);
    } finally {
      await other.stop();
    }
  });

  it('needs a token; the answer without tracking is an empty list that says so', async () => {
    const response = await fetch(`${api.base}/v1/pools`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'TQ_ERR_API_UNAUTHENTICATED',
    );
    const off = await startTestApi(`[amqp]\nurl = ${url}\nconnect_retries = 60\n`);
    try {
      const body = await (await fetch(`${off.base}/v1/pools`, { headers: bearer(READ) })).json();
      expect(body).toEqual({ heartbeats: false, pools: [] });
    } finally {
      await off.stop();
    }
  });
});

const READ = 'reader-secret-0123456789';
