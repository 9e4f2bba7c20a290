import { LOG_LEVELS } from '../log/levels.js';
import { redactUrl, redactUrlList } from './amqp-url.js';
import { type ListenAddress, listenAddress } from './listen-address.js';
import type { QueueType } from './types.js';
import {
  absolutePath,
  amqpUrl,
  byteSize,
  days,
  hostName,
  httpUrl,
  INVALID,
  instanceName,
  integer,
  list,
  MAX_TIMER_SECONDS,
  matching,
  oneOf,
  optional,
  seconds,
  text,
  typeName,
  unixName,
  type ValueParser,
  wholeMiB,
  yesNo,
} from './values.js';

/** How one config key is read: its parser, the phrase for messages, and its default. */
export interface KeySpec<T> {
  /** What a valid value looks like: "an integer from 1 to 65535". */
  readonly expected: string;
  readonly parse: ValueParser<T>;
  /** The value when no section of the lookup has the key. */
  readonly default: T;
  /** How to show a value in messages (masks passwords); the value itself by default. */
  readonly show?: (value: string) => string;
}

function key<T>(
  expected: string,
  parse: ValueParser<T>,
  defaultValue: T,
  show?: (value: string) => string,
): KeySpec<T> {
  return show === undefined
    ? { expected, parse, default: defaultValue }
    : { expected, parse, default: defaultValue, show };
}

/** A type section's `workers`: a number of children, or the names of its instances. */
export type WorkersValue = { count: number } | { instances: string[] };

const count = integer(0);
const instanceNames = list(instanceName, { allowEmpty: false, unique: true });

// A value that looks like a number but is not a count ("-1", "2.5") is a wrong count, not the
// name of an instance whose section would then be reported missing.
const workersCountOrList: ValueParser<WorkersValue> = (value) => {
  if (/^[-+]?[0-9]*\.?[0-9]+$/.test(value)) {
    const n = count(value);
    return n === INVALID ? INVALID : { count: n };
  }
  const instances = instanceNames(value);
  return instances === INVALID ? INVALID : { instances };
};

// `<queue>.invalid` must still fit RabbitMQ's 255 bytes; `amq.` names are reserved by the broker.
const queueName: ValueParser<string> = (value) =>
  /^[A-Za-z0-9_.:-]{1,247}$/.test(value) && !value.startsWith('amq.') ? value : INVALID;

const enabledTypes: ValueParser<'*' | string[]> = (value) =>
  value === '*' ? '*' : list(typeName, { allowEmpty: false, unique: true })(value);

/**
 * A status socket's path (status/server.ts), or none: a Unix socket's path holds at most 107
 * bytes (sun_path), and a relative one would depend on the daemon's working directory.
 */
const statusSocket = optional<string>((value) =>
  absolutePath(value) !== INVALID && Buffer.byteLength(value) <= 107 ? value : INVALID,
);
const STATUS_SOCKET = 'an absolute path of at most 107 bytes, or empty (none) for no socket';

const PORT = 'an integer from 1 to 65535';
/** Metrics off unless asked for; the token file postinst creates (docs/metrics.md). */
const METRICS_LISTEN = key<ListenAddress | undefined>(
  'HOST:PORT (127.0.0.1:9464, [::1]:9464; port 0: any free port), or none',
  listenAddress,
  undefined,
);
const METRICS_TOKEN_FILE = key<string | undefined>(
  'an absolute path, or none (no token: anyone who can connect may scrape)',
  optional(absolutePath),
  '/etc/taskqueue/metrics.token',
);
const PREFETCH = 'an integer from 1 to 65535';
const SECONDS = `a number of seconds from 0 to ${MAX_TIMER_SECONDS}`;
const ABSOLUTE_PATH = 'an absolute path';
const UNIX_NAME_RULE = '[a-z_][a-z0-9_.-]*, at most 32 characters';

// RabbitMQ refuses messages above 512 MiB whatever its max_message_size.
const BODY_SIZE = key(
  'a number of bytes from 1 to 512 MiB (4096, 64K, 16M, …)',
  byteSize(1, 512 * 1024 ** 2),
  16 * 1024 ** 2,
);

/** [amqp]: how to reach the broker. */
export const AMQP_KEYS = {
  host: key('a host name or IP address', hostName, 'localhost'),
  /** Default: 5672, or 5671 when TLS files are given. */
  port: key<number | undefined>(PORT, integer(1, 65535), undefined),
  user: key('a broker user name (not empty)', text({ nonEmpty: true }), 'guest'),
  passwd: key('a password', text({ nonEmpty: false }), 'guest', () => '***'),
  vhost: key('a virtual host name (not empty)', text({ nonEmpty: true }), '/'),
  url: key<string | undefined>('an amqp:// or amqps:// URL', amqpUrl, undefined, redactUrl),
  urls: key<string[] | undefined>(
    'a comma-separated list of amqp:// or amqps:// URLs',
    list(amqpUrl, { allowEmpty: false, unique: false }),
    undefined,
    redactUrlList,
  ),
  heartbeat: key('an integer number of seconds from 0 to 65535', integer(0, 65535), 30),
  tls_ca: key<string | undefined>(ABSOLUTE_PATH, absolutePath, undefined),
  tls_cert: key<string | undefined>(ABSOLUTE_PATH, absolutePath, undefined),
  tls_key: key<string | undefined>(ABSOLUTE_PATH, absolutePath, undefined),
  queue_type: key<QueueType>('classic or quorum', oneOf(['classic', 'quorum']), 'classic'),
  connect_retries: key('an integer ≥ 1', integer(1), 30),
  /** `taskqueue queues`: default http(s)://<broker host>:15672 (15671 for amqps). */
  management_url: key<string | undefined>(
    'an http:// or https:// URL (the management API)',
    httpUrl,
    undefined,
    redactUrl,
  ),
};

/** [dispatcher]. */
export const DISPATCHER_KEYS = {
  queue: key(
    'a queue name (letters, digits, - _ . :, at most 247 characters, not starting with amq.)',
    queueName,
    'taskqueue',
  ),
  prefetch: key(PREFETCH, integer(1, 65535), 100),
  max_body_size: BODY_SIZE,
  max_bytes_in_flight: key(
    'a number of bytes from 1 to 64 GiB (4096, 64K, 64M, …)',
    byteSize(1, 64 * 1024 ** 3),
    64 * 1024 ** 2,
  ),
  types: key<'*' | string[]>('* or a comma-separated list of worker type names', enabledTypes, '*'),
  /** `taskqueue submit` and taskqueue-api publish straight to the type's queue (docs/direct-path.md). */
  direct_path: key('yes or no', yesNo, true),
  metrics_listen: METRICS_LISTEN,
  metrics_token_file: METRICS_TOKEN_FILE,
  status_socket: key<string | undefined>(
    STATUS_SOCKET,
    statusSocket,
    '/run/taskqueue/dispatcher/status.sock',
  ),
};

/** [workerpool]. */
export const WORKERPOOL_KEYS = {
  plugin_paths: key<string[]>(
    'a comma-separated list of absolute paths',
    list(absolutePath, { allowEmpty: true, unique: false }),
    [],
  ),
  enabled: key<'*' | string[]>(
    '* or a comma-separated list of worker type names',
    enabledTypes,
    '*',
  ),
  shutdown_timeout: key(SECONDS, seconds(0, MAX_TIMER_SECONDS), 30),
  log_level: key<string>(`one of ${LOG_LEVELS.join(', ')}`, oneOf(LOG_LEVELS), 'info'),
  metrics_listen: METRICS_LISTEN,
  metrics_token_file: METRICS_TOKEN_FILE,
  status_socket: key<string | undefined>(
    STATUS_SOCKET,
    statusSocket,
    '/run/taskqueue/workerpool/status.sock',
  ),
};

/** [api]: the taskqueue-api daemon (docs/api.md). */
export const API_KEYS = {
  // Loopback by default: an API on every interface is something the operator writes out.
  listen: key<ListenAddress>(
    'HOST:PORT (127.0.0.1:8420, [::1]:8420; port 0: any free port)',
    (value) => listenAddress(value) ?? INVALID,
    { host: '127.0.0.1', port: 8420 },
  ),
  tokens_file: key<string>(ABSOLUTE_PATH, absolutePath, '/etc/taskqueue/api.tokens'),
  /** A path for SQLite, or a postgres:// URL (the store back ends arrive with issue 28's store part). */
  store: key<string>(
    'an absolute path (SQLite) or a postgres:// URL',
    (value) =>
      absolutePath(value) !== INVALID || /^postgres(ql)?:\/\/\S+$/.test(value) ? value : INVALID,
    '/var/lib/taskqueue/tasks.db',
    redactUrl,
  ),
  loopback_without_token: key('yes or no', yesNo, false),
  /** The browser dashboard's files at `/` and `/assets/` (public: they hold no data). */
  dashboard: key('yes or no', yesNo, true),
  // Bodies past this are refused with TQ_ERR_API_BODY_TOO_LARGE before being parsed.
  max_body_size: key(
    'a number of bytes from 1 to 512 MiB (4096, 64K, 16M, …)',
    byteSize(1, 512 * 1024 ** 2),
    1024 ** 2,
  ),
  /** How long `reply` may ask to wait for a final state. */
  max_reply_wait: key(SECONDS, seconds(0, MAX_TIMER_SECONDS), 60),
  // Retention: failures are kept longer, since they are what an operator comes back to (and
  // retries from). Days, decimals allowed; swept in chunks every sweep_interval seconds.
  keep_succeeded: key(
    'a number of days from 0 to 36500 (succeeded, cancelled)',
    days(0, 36_500),
    7 * 86_400,
  ),
  keep_failed: key(
    'a number of days from 0 to 36500 (failed, poisoned, incomplete, invalid, expired)',
    days(0, 36_500),
    30 * 86_400,
  ),
  sweep_interval: key('a number of seconds from 1 to 86400', seconds(1, 86_400), 300),
  // The events carry at most 64 KiB of a workitem or result (common/tracking/limits.ts): a
  // larger cap would keep nothing more.
  result_cap: key('a number of bytes from 1 to 64K', byteSize(1, 64 * 1024), 64 * 1024),
  workitem_cap: key('a number of bytes from 1 to 64K', byteSize(1, 64 * 1024), 64 * 1024),
  /** Where `taskqueue task|tasks` reach the API; default: `listen` when [api] is written. */
  url: key<string | undefined>(
    'an http:// or https:// URL (the API, for the CLI)',
    httpUrl,
    undefined,
    redactUrl,
  ),
};

/** [tracking]: lifecycle events for the tracker of taskqueue-api (docs/tracking.md). */
export const TRACKING_KEYS = {
  enabled: key<boolean>('yes or no', yesNo, false),
  /** Seconds between two pool heartbeats (GET /v1/pools); a pool silent for 3 is `stale`. */
  heartbeat_interval: key('a number of seconds from 1 to 3600', seconds(1, 3600), 10),
};

/**
 * The keys of type and instance sections (and [DEFAULT] as their last fallback). They are
 * reserved: every other key of those sections is a plugin setting.
 */
export const GROUP_KEYS = {
  /** In a type section; an instance's `workers` is read with INSTANCE_WORKERS. */
  workers: key<WorkersValue>(
    'a number of children (an integer ≥ 0) or a comma-separated list of instance names',
    workersCountOrList,
    { count: 1 },
  ),
  user: key<string | undefined>(`a Unix user name (${UNIX_NAME_RULE})`, unixName, undefined),
  group: key<string | undefined>(`a Unix group name (${UNIX_NAME_RULE})`, unixName, undefined),
  results_routing_key: key(
    'a routing key of at most 255 bytes',
    text({ nonEmpty: false, maxBytes: 255 }),
    'results',
  ),
  results_exchange: key(
    'an exchange name (letters, digits, - _ . :), or empty for the default exchange',
    matching(/^[A-Za-z0-9_.:-]{0,255}$/),
    '',
  ),
  prefetch: key(PREFETCH, integer(1, 65535), 1),
  /** Tasks a child runs at once; the rest of its prefetch wait in hand. None: all of them. */
  concurrency: key<number | undefined>(
    'an integer from 1 to 65535 (at most prefetch), or none',
    optional(integer(1, 65535)),
    undefined,
  ),
  max_attempts: key('an integer from 1 to 1000', integer(1, 1000), 1),
  retry_delay: key(SECONDS, seconds(0, MAX_TIMER_SECONDS), 10),
  // At most 100: well under the quorum queues' delivery limit (QUORUM_DELIVERY_LIMIT).
  max_crashes: key('an integer from 1 to 100', integer(1, 100), 3),
  timeout: key<number | undefined>(
    `a number of seconds above 0 (at most ${MAX_TIMER_SECONDS}), or none`,
    optional(seconds(0, MAX_TIMER_SECONDS, true)),
    undefined,
  ),
  max_tasks_per_child: key<number | undefined>(
    'an integer ≥ 1, or none',
    optional(integer(1)),
    undefined,
  ),
  max_memory_per_child: key<number | undefined>(
    'a number of MiB (an integer ≥ 1), or none',
    optional(integer(1)),
    undefined,
  ),
  // RabbitMQ 4's own default max_message_size: a child refuses a larger task before parsing it.
  /** The same bound as the dispatcher's, for tasks published straight to `worker_<type>`. */
  max_body_size: BODY_SIZE,
  /**
   * Each child's young generation (V8's --max-semi-space-size), in MiB; none: 1 MiB, the lowest
   * RSS. Larger for tasks of tens of KiB, which otherwise outlive scavenges (bench/FINDINGS.md).
   */
  semi_space_size: key<number | undefined>(
    'a whole number of MiB from 1M to 64M (8M, …), or none',
    optional(wholeMiB(1, 64)),
    undefined,
  ),
  // A type's, not an instance's (TYPE_LEVEL_KEYS): one worker queue serves every instance.
  /** `worker_<type>`'s priority levels above 0 (RabbitMQ's x-max-priority); none: no priorities. */
  max_priority: key<number | undefined>(
    'an integer from 1 to 255, or none',
    optional(integer(1, 255)),
    undefined,
  ),
  /** Tasks of the type started a second, across every pool on every host; none: no cap. */
  rate_limit: key<number | undefined>(
    'a number of tasks a second above 0 (at most 100000), or none',
    optional(seconds(0, 100_000, true)),
    undefined,
  ),
};

/**
 * Keys of GROUP_KEYS that belong to the type, not to one instance: they shape the one queue all
 * instances share (or cap them together), so an instance section may not set them.
 */
export const TYPE_LEVEL_KEYS = ['max_priority', 'rate_limit'] as const;

/**
 * `workers` of an instance section, and of [DEFAULT] for types without a section: a count only,
 * since only a type section can list instances.
 */
export const INSTANCE_WORKERS = key('a number of children (an integer ≥ 0)', count, 1);

/** Every key of SPEC §2 by the kind of section it belongs to. */
export const SCHEMA = {
  amqp: AMQP_KEYS,
  dispatcher: DISPATCHER_KEYS,
  workerpool: WORKERPOOL_KEYS,
  api: API_KEYS,
  tracking: TRACKING_KEYS,
  group: GROUP_KEYS,
} as const;

/** The sections whose keys are fixed (an unknown key written in them is an error). */
export type FixedSection = 'amqp' | 'dispatcher' | 'workerpool' | 'api' | 'tracking';

/** True for a key of type/instance sections that is not a plugin setting. */
export function isReservedGroupKey(name: string): boolean {
  return Object.hasOwn(GROUP_KEYS, name);
}
