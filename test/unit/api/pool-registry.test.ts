import { describe, expect, it } from 'vitest';
import { PoolRegistry } from '../../../src/api/pools/pool-registry.js';
import { parseConfigText } from '../../../src/common/config/load.js';
import {
  encodeHeartbeat,
  type HeartbeatChild,
  type PoolHeartbeat,
  parseHeartbeat,
} from '../../../src/common/tracking/heartbeat.js';

const heartbeat = (over: Partial<PoolHeartbeat> = {}): PoolHeartbeat => ({
  v: 1,
  host: 'h1',
  pid: 10,
  version: '1.0.0',
  state: 'running',
  at: '2026-01-01T00:00:00.000Z',
  startedAt: '2026-01-01T00:00:00.000Z',
  intervalS: 10,
  groups: [
    {
      name: 'echo',
      type: 'echo',
      state: 'running',
      user: 'nobody',
      wanted: 1,
      running: 1,
      restarts: 0,
      children: [{ pid: 11, slot: 0, state: 'running', tasksDone: 3, inHand: 0, restarts: 0 }],
    },
  ],
  refused: [],
  ...over,
});

const child = (over: Partial<HeartbeatChild> = {}): HeartbeatChild => ({
  pid: 11,
  slot: 0,
  state: 'running',
  tasksDone: 3,
  inHand: 0,
  restarts: 0,
  ...over,
});

describe('pool heartbeats', () => {
  it('parse what they encode, and refuse anything else', () => {
    const hb = heartbeat();
    expect(parseHeartbeat(encodeHeartbeat(hb))).toEqual(hb);
    // A child's waiting tasks, and a pool older than that count (none sent).
    const waiting = heartbeat({
      groups: [{ ...hb.groups[0]!, children: [child({ inHand: 3, waiting: 2 })] }],
    });
    expect(parseHeartbeat(encodeHeartbeat(waiting))).toEqual(waiting);
    for (const bad of [
      'not json',
      '[]',
      JSON.stringify({ ...hb, v: 2 }),
      JSON.stringify({ ...hb, pid: -1 }),
      JSON.stringify({ ...hb, state: 'dead' }),
      JSON.stringify({ ...hb, groups: [{ ...hb.groups[0], children: [{ pid: 'x' }] }] }),
      JSON.stringify({ ...hb, groups: [{ ...hb.groups[0], children: [child({ waiting: -1 })] }] }),
      // More waiting than held cannot be.
      JSON.stringify({ ...hb, groups: [{ ...hb.groups[0], children: [child({ waiting: 1 })] }] }),
    ]) {
      expect(parseHeartbeat(Buffer.from(bad)), bad).toBeUndefined();
    }
  });

  it('the registry keeps the latest per (host, pid), stale after 3 silent intervals', () => {
    let now = 0;
    const registry = new PoolRegistry(() => now);
    registry.record(heartbeat({ at: '2026-01-01T00:00:10.000Z' }));
    // An older heartbeat arriving late changes nothing.
    registry.record(heartbeat({ at: '2026-01-01T00:00:00.000Z', state: 'stopped' }));
    registry.record(heartbeat({ host: 'h0', pid: 99 }));
    expect(registry.list().map((p) => [p.host, p.pid, p.state])).toEqual([
      ['h0', 99, 'running'],
      ['h1', 10, 'running'],
    ]);
    now = 30_001;
    expect(registry.list().map((p) => p.state)).toEqual(['stale', 'stale']);
    registry.record(heartbeat({ at: '2026-01-01T00:00:40.000Z', state: 'stopped' }));
    expect(registry.list().map((p) => p.state)).toEqual(['stale', 'stopped']);
    now += 25 * 60 * 60 * 1000;
    expect(registry.list()).toEqual([]);
  });

  it('[tracking] heartbeat_interval: 10 s by default, 1 to 3600', () => {
    const load = (text: string) => parseConfigText(text, 'test.ini', {});
    expect(load('').tracking.heartbeatInterval).toBe(10);
    expect(load('[tracking]\nheartbeat_interval = 2.5\n').tracking.heartbeatInterval).toBe(2.5);
    expect(() => load('[tracking]\nheartbeat_interval = 0\n')).toThrow(/heartbeat_interval/);
  });
});
