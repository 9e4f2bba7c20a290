import { hostname, userInfo } from 'node:os';
import { AmqpConnection } from '../common/amqp/connection.js';
import { ConfirmedPublisher } from '../common/amqp/publisher.js';
import type { AmqpConfig } from '../common/config/types.js';
import type { Logger } from '../common/logger.js';
import { taskqueueVersion } from '../common/metrics/build-info.js';
import {
  encodeHeartbeat,
  HEARTBEAT_EXCHANGE,
  HEARTBEAT_TTL_INTERVALS,
  heartbeatRoutingKey,
  type PoolHeartbeat,
} from '../common/tracking/heartbeat.js';
import type { PoolStatus } from './status/snapshot.js';

/** The last heartbeat's confirm is waited for this long at stop, no longer: stopping goes on. */
const STOPPED_CONFIRM_MS = 2_000;

export interface HeartbeatOptions {
  amqp: AmqpConfig;
  /** Seconds between two heartbeats. */
  intervalS: number;
  /** The pool's status (the same `taskqueue status` shows). */
  snapshot: () => PoolStatus;
  log: Logger;
}

/**
 * Publishes the pool's heartbeat (common/tracking/heartbeat.ts) on a connection of its own, so
 * that a broker the pool cannot reach never holds up the pool: the children have their own
 * connections, and a heartbeat that cannot go is skipped, not queued. Transient, not mandatory
 * (no API daemon listening is normal), with an expiration of a few intervals.
 */
export class PoolHeartbeats {
  readonly #options: HeartbeatOptions;
  readonly #host = hostname();
  readonly #user = ownUser();
  readonly #version = taskqueueVersion();
  #connection: AmqpConnection | undefined;
  #publisher: { channel: unknown; publisher: ConfirmedPublisher } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #connecting: Promise<void> | undefined;

  constructor(options: HeartbeatOptions) {
    this.#options = options;
  }

  start(): void {
    this.#connect();
    this.#timer = setInterval(() => {
      if (this.#connection === undefined) this.#connect();
      else void this.#send('running');
    }, this.#options.intervalS * 1000);
    this.#timer.unref();
  }

  /** Sends the last heartbeat (`stopped`) if connected, then closes. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    if (this.#connection?.channel !== undefined) {
      await Promise.race([
        this.#send('stopped'),
        new Promise((resolve) => setTimeout(resolve, STOPPED_CONFIRM_MS).unref()),
      ]);
    }
    await this.#connection?.close();
    this.#connection = undefined;
  }

  /** The heartbeat of now, from the pool's status. */
  heartbeat(state: PoolHeartbeat['state']): PoolHeartbeat {
    const status = this.#options.snapshot();
    return {
      v: 1,
      host: this.#host,
      pid: status.pid,
      version: this.#version,
      state,
      at: status.at,
      startedAt: status.startedAt,
      intervalS: this.#options.intervalS,
      groups: status.groups.map((group) => ({
        name: group.name,
        type: group.type,
        state: group.state,
        user: group.user ?? this.#user,
        wanted: group.wanted,
        running: group.running,
        restarts: group.restarts.total,
        children: group.children.map((child) => ({
          pid: child.pid,
          slot: child.slot,
          state: child.state,
          tasksDone: child.tasksDone,
          inHand: child.inHand.length,
          waiting: child.inHand.filter((task) => task.waiting).length,
          restarts: child.restarts,
        })),
      })),
      refused: status.refused.map((group) => ({ name: group.name, code: group.code })),
    };
  }

  #connect(): void {
    if (this.#connecting !== undefined || this.#stopped) return;
    const { log } = this.#options;
    const connection = new AmqpConnection(this.#options.amqp, {
      name: 'taskqueue-workerpool-heartbeat',
      logger: log,
      // The exchange only: nothing is bound but by an API daemon, which declares its own queue.
      setup: (channel) =>
        channel.assertExchange(HEARTBEAT_EXCHANGE, 'topic', { durable: true }).then(() => {}),
    });
    // Given up on for good (retries spent after a loss): a fresh one at the next interval.
    connection.on('fatal', (err: Error) => {
      log.warn({ err: err.message }, 'heartbeat connection given up; trying again');
      if (this.#connection === connection) this.#connection = undefined;
      void connection.close();
    });
    this.#connecting = connection.start().then(
      () => {
        this.#connecting = undefined;
        if (this.#stopped) {
          void connection.close();
          return;
        }
        this.#connection = connection;
        void this.#send('running');
      },
      (err: Error) => {
        this.#connecting = undefined;
        log.warn({ err: err.message }, 'heartbeats not sent: broker not reachable; trying again');
        void connection.close();
      },
    );
  }

  async #send(state: PoolHeartbeat['state']): Promise<void> {
    const channel = this.#connection?.channel;
    if (channel === undefined) return;
    if (this.#publisher?.channel !== channel) {
      this.#publisher = { channel, publisher: new ConfirmedPublisher(channel) };
    }
    const heartbeat = this.heartbeat(state);
    try {
      await this.#publisher.publisher.publish(
        HEARTBEAT_EXCHANGE,
        heartbeatRoutingKey(heartbeat.host),
        encodeHeartbeat(heartbeat),
        {
          mandatory: false,
          persistent: false,
          contentType: 'application/json',
          expiration: String(this.#options.intervalS * 1000 * HEARTBEAT_TTL_INTERVALS),
        },
      );
    } catch (err) {
      // The next interval tries again; a lost connection reconnects by itself.
      this.#options.log.debug({ err: (err as Error).message }, 'heartbeat not confirmed');
    }
  }
}

function ownUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '');
  }
}
