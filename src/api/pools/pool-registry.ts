import { type PoolHeartbeat, STALE_INTERVALS } from '../../common/tracking/heartbeat.js';

/** A pool as GET /v1/pools shows it: its last heartbeat and what its silence means. */
export interface PoolView extends Omit<PoolHeartbeat, 'v' | 'state'> {
  /** `stale`: no heartbeat for STALE_INTERVALS intervals (the pool, its host or its link died). */
  state: 'running' | 'stopped' | 'stale';
  /** When this API daemon received the last heartbeat (its own clock, not the pool's). */
  receivedAt: string;
}

/** A pool stopped or stale this long is forgotten: a host taken out of service leaves the list. */
export const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * The latest heartbeat of each pool, by (host, pid), in memory. Not in the store: a heartbeat
 * is worth one interval, every API daemon hears every heartbeat on its own queue (so each one
 * has the whole picture within one interval of starting), and writing a row per pool every 10 s
 * to a shared PostgreSQL would cost more than the answer is worth.
 *
 * Staleness is judged on the receiving clock (receivedAt), never the pool's `at`: two hosts'
 * clocks need not agree.
 */
export class PoolRegistry {
  readonly #pools = new Map<string, { heartbeat: PoolHeartbeat; receivedAt: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  record(heartbeat: PoolHeartbeat): void {
    const key = `${heartbeat.host}\0${heartbeat.pid}`;
    const known = this.#pools.get(key);
    // A heartbeat overtaken by a later one (redelivered, or from before a stop) is not news.
    if (known !== undefined && Date.parse(known.heartbeat.at) > Date.parse(heartbeat.at)) return;
    this.#pools.set(key, { heartbeat, receivedAt: this.#now() });
  }

  /** Every pool heard of, by host then pid. */
  list(): PoolView[] {
    const now = this.#now();
    const views: PoolView[] = [];
    for (const [key, { heartbeat, receivedAt }] of this.#pools) {
      const silentMs = now - receivedAt;
      if (silentMs > FORGET_AFTER_MS) {
        this.#pools.delete(key);
        continue;
      }
      const { v: _v, state, ...rest } = heartbeat;
      const stale = state === 'running' && silentMs > heartbeat.intervalS * 1000 * STALE_INTERVALS;
      views.push({
        ...rest,
        state: stale ? 'stale' : state,
        receivedAt: new Date(receivedAt).toISOString(),
      });
    }
    return views.sort((a, b) => a.host.localeCompare(b.host) || a.pid - b.pid);
  }
}
