import type { StatusLine } from '../common/status/status-updates.js';

/**
 * What `taskqueue status` gets from the dispatcher (its status socket; docs/status.md). Counts
 * are since the dispatcher started, in memory only.
 */
export interface DispatcherStatus {
  daemon: 'dispatcher';
  pid: number;
  at: string;
  startedAt: string;
  uptimeS: number;
  /** The input queue. */
  queue: string;
  /** `connecting` (never connected yet), `consuming`, `paused` (bytes in hand at
   * max_bytes_in_flight: it takes no more until they drain), `disconnected` (lost the broker,
   * reconnecting), `stopping`. */
  state: DispatcherState;
  connected: boolean;
  consuming: boolean;
  bytesInHand: number;
  maxBytesInFlight: number;
  tasks: { received: number; forwarded: number; parked: number };
  /** Worker queues declared on this connection (types seen). */
  declaredTypes: number;
}

export type DispatcherState = 'connecting' | 'consuming' | 'paused' | 'disconnected' | 'stopping';

/** What the dispatcher knows of itself; given, so that building the answer is pure. */
export interface DispatcherFacts {
  queue: string;
  everConnected: boolean;
  connected: boolean;
  consuming: boolean;
  paused: boolean;
  stopping: boolean;
  bytesInHand: number;
  maxBytesInFlight: number;
  counts: { received: number; forwarded: number; parked: number };
  declaredTypes: number;
}

export function dispatcherState(facts: DispatcherFacts): DispatcherState {
  if (facts.stopping) return 'stopping';
  if (!facts.connected) return facts.everConnected ? 'disconnected' : 'connecting';
  // Connected, not consuming and not paused: between a reconnect and its consume.
  return facts.paused ? 'paused' : facts.consuming ? 'consuming' : 'connecting';
}

export function buildDispatcherStatus(
  facts: DispatcherFacts,
  context: { now: number; pid: number; startedAt: number },
): DispatcherStatus {
  const { now } = context;
  return {
    daemon: 'dispatcher',
    pid: context.pid,
    at: new Date(now).toISOString(),
    startedAt: new Date(context.startedAt).toISOString(),
    uptimeS: Math.max(0, Math.floor((now - context.startedAt) / 1000)),
    queue: facts.queue,
    state: dispatcherState(facts),
    connected: facts.connected,
    consuming: facts.consuming,
    bytesInHand: facts.bytesInHand,
    maxBytesInFlight: facts.maxBytesInFlight,
    tasks: { ...facts.counts },
    declaredTypes: facts.declaredTypes,
  };
}

/**
 * The dispatcher's STATUS= line: `consuming taskqueue; 1234 forwarded, 2 parked`. The key is
 * the state alone: counts change with every task, and are sent again at most every
 * STATUS_REFRESH_MS (status-updates.ts).
 */
export function dispatcherStatusLine(facts: DispatcherFacts): StatusLine {
  const state = dispatcherState(facts);
  const { forwarded, parked } = facts.counts;
  return {
    line: `${state} ${facts.queue}; ${forwarded} forwarded, ${parked} parked`,
    key: state,
  };
}
