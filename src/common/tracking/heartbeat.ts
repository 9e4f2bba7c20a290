import { EVENTS_EXCHANGE } from '../amqp/queues.js';

/**
 * A pool's heartbeat (issue 28 item 4): what one `taskqueue-workerpool` runs, published every
 * `[tracking] heartbeat_interval` seconds to the events exchange, so that an API daemon on any
 * host can show every pool. Compact: the groups and their children, not the tasks in hand.
 * Transient and with a per-message expiration (HEARTBEAT_TTL_INTERVALS intervals): a heartbeat
 * no API daemon took in time is worth nothing and dies in the queue.
 */
export interface PoolHeartbeat {
  v: 1;
  host: string;
  pid: number;
  /** taskqueue's version (package.json), 'unknown' when unreadable. */
  version: string;
  /** `stopped`: the pool's last heartbeat, sent as it stops. */
  state: 'running' | 'stopped';
  /** When it was sent (the pool's clock). */
  at: string;
  startedAt: string;
  /** Seconds until the next one: a receiver calls the pool stale after 3 of them in silence. */
  intervalS: number;
  groups: HeartbeatGroup[];
  /** Groups of the config that do not run here, with their code. */
  refused: Array<{ name: string; code: string }>;
}

export interface HeartbeatGroup {
  name: string;
  type: string;
  /** The supervisor's state: running, delaying, failed, … */
  state: string;
  /** The children's Unix user (the pool's own when the group names none). */
  user: string;
  wanted: number;
  /** Children ready and consuming. */
  running: number;
  restarts: number;
  children: HeartbeatChild[];
}

export interface HeartbeatChild {
  pid: number | null;
  slot: number;
  state: string;
  tasksDone: number;
  inHand: number;
  /**
   * Of `inHand`, the tasks held but not started: the group's `concurrency` is reached and they
   * wait for a turn. Absent from the heartbeats of a pool older than this field.
   */
  waiting?: number;
  restarts: number;
}

/** A receiver calls a pool stale after this many intervals without a heartbeat. */
export const STALE_INTERVALS = 3;
/** A heartbeat waiting longer than this in a queue is dropped by the broker. */
export const HEARTBEAT_TTL_INTERVALS = 3;
/** Bound before parsing: a pool of a few hundred children is a few tens of KiB. */
export const MAX_HEARTBEAT_BYTES = 1024 * 1024;

export const HEARTBEAT_EXCHANGE = EVENTS_EXCHANGE;
/** What an API daemon binds its own queue with. The tracker's `task.#` never sees these. */
export const HEARTBEAT_BINDING = 'pool.#';
/** `pool.heartbeat.<host>`: a host name's dots make more words, which `pool.#` still matches. */
export const heartbeatRoutingKey = (host: string): string => `pool.heartbeat.${host}`;

/** The message's body. */
export function encodeHeartbeat(heartbeat: PoolHeartbeat): Buffer {
  return Buffer.from(JSON.stringify(heartbeat));
}

/**
 * Reads a heartbeat, or undefined for anything else (not JSON, another version, a field of the
 * wrong kind): it is shown to operators, so what is shown must have the shape documented.
 */
export function parseHeartbeat(body: Buffer): PoolHeartbeat | undefined {
  if (body.length > MAX_HEARTBEAT_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(value) || value.v !== 1) return undefined;
  const ok =
    isText(value.host) &&
    isCount(value.pid) &&
    isText(value.version) &&
    (value.state === 'running' || value.state === 'stopped') &&
    isTime(value.at) &&
    isTime(value.startedAt) &&
    typeof value.intervalS === 'number' &&
    value.intervalS > 0 &&
    Array.isArray(value.groups) &&
    value.groups.every(isGroup) &&
    Array.isArray(value.refused) &&
    value.refused.every((r) => isObject(r) && isText(r.name) && isText(r.code));
  return ok ? (value as unknown as PoolHeartbeat) : undefined;
}

function isGroup(value: unknown): boolean {
  return (
    isObject(value) &&
    isText(value.name) &&
    isText(value.type) &&
    isText(value.state) &&
    isText(value.user) &&
    isCount(value.wanted) &&
    isCount(value.running) &&
    isCount(value.restarts) &&
    Array.isArray(value.children) &&
    value.children.every(
      (child) =>
        isObject(child) &&
        (child.pid === null || isCount(child.pid)) &&
        isCount(child.slot) &&
        isText(child.state) &&
        isCount(child.tasksDone) &&
        isCount(child.inHand) &&
        (child.waiting === undefined ||
          (isCount(child.waiting) && child.waiting <= (child.inHand as number))) &&
        isCount(child.restarts),
    )
  );
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= 255;
const isCount = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0;
const isTime = (value: unknown): boolean =>
  typeof value === 'string' && !Number.isNaN(Date.parse(value));
