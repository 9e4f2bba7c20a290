/** The validated, typed configuration of every taskqueue program (SPEC §2). */

import type { ListenAddress } from './listen-address.js';

/** A daemon's metrics endpoint (docs/metrics.md). */
export interface MetricsConfig {
  /** `metrics_listen`: undefined, no endpoint (the default). */
  listen: ListenAddress | undefined;
  /** `metrics_token_file`: the bearer token a scrape must send; undefined: none asked. */
  tokenFile: string | undefined;
}

export type QueueType = 'classic' | 'quorum';

export interface TlsFiles {
  /** Paths as written in the config; read when connecting. */
  ca: string | undefined;
  cert: string | undefined;
  key: string | undefined;
}

/** The contents of the TLS files (PEM), read by a process that may read them. */
export interface TlsMaterial {
  ca: string | undefined;
  cert: string | undefined;
  key: string | undefined;
}

export interface AmqpConfig {
  /**
   * Broker URLs to try in order. From `TASKQUEUE_AMQP_URL` if set, else `urls`, else `url`, else
   * built from host/port/user/passwd/vhost (defaults localhost, 5672, guest, guest, `/`).
   */
  urls: string[];
  /** Heartbeat in seconds (default 30); 0 disables. */
  heartbeat: number;
  tls: TlsFiles;
  /**
   * The files' contents, when already read: the pool reads them as root and hands them to its
   * children, which run as plugin users who must not be able to read the client key.
   */
  tlsMaterial?: TlsMaterial;
  /** `classic` (default) or `quorum`, for every queue the system declares. */
  queueType: QueueType;
  /** Connection attempts before giving up with exit 69 (default 30). */
  connectRetries: number;
  /** The management API `taskqueue queues` asks (`[amqp] management_url`), when set. */
  managementUrl?: string;
}

export interface DispatcherConfig {
  /** Input queue (default `taskqueue`); invalid input goes to `<queue>.invalid`. */
  queue: string;
  /** Unacked messages in flight (default 100). */
  prefetch: number;
  /** Bytes above which a body is parked on `<queue>.invalid` unread (default 16 MiB). */
  maxBodySize: number;
  /** Bytes of deliveries in hand above which the dispatcher stops taking more (default 64 MiB). */
  maxBytesInFlight: number;
  /** The only types forwarded (`*`: any); the others are parked on `<queue>.invalid`. */
  types: '*' | string[];
  /**
   * `taskqueue submit` and taskqueue-api publish to TYPES_EXCHANGE, skipping the dispatcher
   * (default yes); `no`: to the input queue, through the dispatcher (docs/direct-path.md).
   */
  directPath: boolean;
  metrics: MetricsConfig;
  /** The dispatcher's status socket (`taskqueue status`), or undefined for none. */
  statusSocket: string | undefined;
}

export interface WorkerpoolConfig {
  /** Extra plugin paths, searched before the defaults. */
  pluginPaths: string[];
  /** `'*'` (default) or the types allowed to run. */
  enabled: '*' | string[];
  /** Seconds to let in-flight tasks finish on stop (default 30). */
  shutdownTimeout: number;
  /** pino level (default `info`). */
  logLevel: string;
  metrics: MetricsConfig;
  /** The pool's status socket (`taskqueue status`), or undefined for none. */
  statusSocket: string | undefined;
}

/** [api]: the taskqueue-api daemon (docs/api.md). */
export interface ApiConfig {
  /** Where the HTTP API listens (default 127.0.0.1:8420). */
  listen: ListenAddress;
  /** Bearer tokens, one `name role token` a line (src/api/auth/tokens.ts). */
  tokensFile: string;
  /** A SQLite file path or a postgres:// URL. */
  store: string;
  /** Requests from loopback need no token (default no). */
  loopbackWithoutToken: boolean;
  /** The browser dashboard at `/` (default yes). */
  dashboard: boolean;
  /** Bytes: a larger request body is refused (default 1 MiB). */
  maxBodySize: number;
  /** Seconds: the longest `reply` wait a submit may ask for (default 60). */
  maxReplyWait: number;
  /** Seconds a succeeded or cancelled task is kept after it finished (default 7 days). */
  keepSucceeded: number;
  /** Seconds a failed, poisoned, incomplete, invalid or expired task is kept (default 30 days). */
  keepFailed: number;
  /** Seconds between retention sweeps (default 300). */
  sweepInterval: number;
  /** Bytes of a result the store keeps; past it the result is cut and the record says so. */
  resultCap: number;
  /** Bytes of a workitem the store keeps (a cut one cannot be retried). */
  workitemCap: number;
  /** Where the CLI reaches the API (`taskqueue task|tasks`); undefined: from `listen`. */
  url: string | undefined;
  /** The file has an [api] section: this host runs (or names) an API the CLI may ask. */
  written: boolean;
}

/** One group of identical children: a type section, or one instance of a type. */
export interface GroupConfig {
  /** The section the group comes from: `<type>` or `<type>_<instance>` (`<type>` for DEFAULT-only types). */
  name: string;
  type: string;
  instance: string | undefined;
  /** Number of children. */
  workers: number;
  user: string | undefined;
  group: string | undefined;
  resultsExchange: string;
  resultsRoutingKey: string;
  /** Per-child prefetch (default 1). */
  prefetch: number;
  /** Tasks a child's plugin runs at once, ≤ prefetch; undefined: as many as prefetch. */
  concurrency: number | undefined;
  maxAttempts: number;
  /** Seconds before the first retry (default 10); doubles each retry. */
  retryDelay: number;
  maxCrashes: number;
  /** Seconds a task may run, or undefined for no limit. */
  timeout: number | undefined;
  maxTasksPerChild: number | undefined;
  /** MiB of RSS after which a child is replaced between tasks. */
  maxMemoryPerChild: number | undefined;
  /** Bytes: a larger task body is parked on `worker_<type>.dead` unparsed. */
  maxBodySize: number;
  /** MiB of each child's young-generation semi-space (V8's --max-semi-space-size); undefined: 1. */
  semiSpaceSize: number | undefined;
  /** `worker_<type>`'s highest priority (x-max-priority), or undefined: a plain FIFO queue. The type's. */
  maxPriority: number | undefined;
  /** Tasks a second the type may start across all pools and hosts, or undefined. The type's. */
  rateLimit: number | undefined;
  /** Every non-reserved key of the group's sections (instance → type → DEFAULT), for the plugin. */
  settings: Record<string, string>;
}

/** [tracking]: whether the dispatcher and the children publish lifecycle events. */
export interface TrackingConfig {
  /** Off by default: nothing declared, nothing published, no work a task. */
  enabled: boolean;
  /** Seconds between two heartbeats of a pool (published only when `enabled`). */
  heartbeatInterval: number;
}

export interface Config {
  /** The file the config came from (for messages). */
  file: string;
  /**
   * What loads but may not mean what the file's author meant (a [DEFAULT] key that the fixed
   * sections no longer inherit), one line each: the daemons log them at start and on reload,
   * `check-config` prints them.
   */
  warnings: string[];
  amqp: AmqpConfig;
  dispatcher: DispatcherConfig;
  workerpool: WorkerpoolConfig;
  api: ApiConfig;
  tracking: TrackingConfig;
  /** The types that have a section of their own, in file order. */
  configuredTypes: string[];
  /**
   * The groups of one type: from its sections when it has one, else a single group from
   * [DEFAULT] alone (every installed plugin runs, SPEC §2).
   */
  groupsFor(type: string): GroupConfig[];
}
