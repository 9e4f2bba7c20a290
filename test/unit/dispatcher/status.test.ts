import { describe, expect, it } from 'vitest';
import {
  buildDispatcherStatus,
  type DispatcherFacts,
  dispatcherStatusLine,
} from '../../../src/dispatcher/status.js';

const facts = (more: Partial<DispatcherFacts> = {}): DispatcherFacts => ({
  queue: 'taskqueue',
  everConnected: true,
  connected: true,
  consuming: true,
  paused: false,
  stopping: false,
  bytesInHand: 10,
  maxBytesInFlight: 100,
  counts: { received: 9, forwarded: 7, parked: 2 },
  declaredTypes: 3,
  ...more,
});

describe("the dispatcher's status", () => {
  it('says its state from what it knows', () => {
    const state = (more: Partial<DispatcherFacts>) => dispatcherStatusLine(facts(more)).key;
    expect(state({})).toBe('consuming');
    expect(state({ consuming: false, paused: true })).toBe('paused');
    expect(state({ connected: false, consuming: false, everConnected: false })).toBe('connecting');
    expect(state({ connected: false, consuming: false })).toBe('disconnected');
    expect(state({ stopping: true })).toBe('stopping');
  });

  it('STATUS= line: the state, the queue and the counts; the key is the state alone', () => {
    expect(dispatcherStatusLine(facts())).toEqual({
      line: 'consuming taskqueue; 7 forwarded, 2 parked',
      key: 'consuming',
    });
  });

  it('answers with its counts and times', () => {
    const now = Date.parse('2026-12-06T20:00:00.000Z');
    expect(buildDispatcherStatus(facts(), { now, pid: 5, startedAt: now - 61_500 })).toEqual({
      daemon: 'dispatcher',
      pid: 5,
      at: '2026-12-06T20:00:00.000Z',
      startedAt: '2026-12-06T19:58:58.500Z',
      uptimeS: 61,
      queue: 'taskqueue',
      state: 'consuming',
      connected: true,
      consuming: true,
      bytesInHand: 10,
      maxBytesInFlight: 100,
      tasks: { received: 9, forwarded: 7, parked: 2 },
      declaredTypes: 3,
    });
  });
});
