/**
 * Every error a user or an operator can meet has a stable code. Tests assert the code, never the
 * text; `exit.ts` maps codes to exit statuses.
 */
export const ErrorCodes = {
  /** The config file is syntactically not a ConfigParser file. */
  TQ_ERR_CONFIG_SYNTAX: 'config syntax',
  /** A key has a value of the wrong type or out of range, or is unknown where keys are fixed. */
  TQ_ERR_CONFIG_VALUE: 'config value',
  /** The config file cannot be read. */
  TQ_ERR_CONFIG_READ: 'config file unreadable',
  /** A TLS file named by tls_ca, tls_cert or tls_key cannot be read. */
  TQ_ERR_CONFIG_TLS_READ: 'TLS file unreadable',
  /** The broker could not be reached within the configured retries. */
  TQ_ERR_AMQP_UNREACHABLE: 'broker unreachable',
  /** A publish was not confirmed because the channel or connection closed first. */
  TQ_ERR_AMQP_CHANNEL_CLOSED: 'channel closed before confirm',
  /** The broker refused (nacked) a publish. */
  TQ_ERR_AMQP_NACK: 'publish nacked by broker',
  /**
   * A message that cannot be written in AMQP (e.g. a header value out of its type's range, as
   * another client may send it): nothing was sent, and sending it again cannot help.
   */
  TQ_ERR_AMQP_ENCODE: 'message cannot be encoded',
  /** A result that cannot be serialized as JSON (nested too deeply, a cycle, a BigInt). */
  TQ_ERR_RESULT_UNSERIALIZABLE: 'result not serializable',
  /** A mandatory publish was returned: no queue would receive it. */
  TQ_ERR_AMQP_UNROUTABLE: 'publish unroutable',
  /** A queue exists with arguments other than the ones this system declares. */
  TQ_ERR_AMQP_QUEUE_MISMATCH: 'queue declared with other arguments',
  /** A plugin package could not be loaded. */
  TQ_ERR_PLUGIN_LOAD: 'plugin failed to load',
  /** A plugin declares an API range this host does not satisfy. */
  TQ_ERR_PLUGIN_API: 'plugin API incompatible',
  /** A plugin's default export is not a worker class. */
  TQ_ERR_PLUGIN_SHAPE: 'plugin is not a worker',
  /** A plugin's setup() threw. */
  TQ_ERR_PLUGIN_SETUP: 'plugin setup failed',
  /** A command line is malformed. */
  TQ_ERR_CLI_USAGE: 'usage',
  /** `taskqueue submit --wait` saw no result in time. */
  TQ_ERR_CLI_TIMEOUT: 'timed out waiting',
  /**
   * An input task the dispatcher cannot route (not UTF-8, not JSON, not an object, no type, a
   * type outside the grammar or with a reserved segment): parked on `<queue>.invalid`.
   */
  TQ_ERR_TASK_INVALID: 'task cannot be routed',
  /**
   * A task body above `max_body_size`, refused unread: by the dispatcher (`[dispatcher]`, parked
   * on `<queue>.invalid`) or by a child (the group's key, parked on `worker_<type>.dead`).
   */
  TQ_ERR_TASK_TOO_LARGE: 'task body too large',
  /** An input task of a type not in `[dispatcher] types`: parked on `<queue>.invalid`. */
  TQ_ERR_TASK_TYPE_NOT_ALLOWED: 'task type not allowed',
  /**
   * The broker refused to declare a queue that does not exist (e.g. the vhost's `max-queues`
   * limit is reached): the dispatcher parks the task on `<queue>.invalid` rather than retry.
   */
  TQ_ERR_AMQP_QUEUE_REFUSED: 'queue declaration refused',
  /** `taskqueue results` was pointed at a queue that does not exist (it never creates one). */
  TQ_ERR_CLI_NO_QUEUE: 'no such queue',
  /**
   * A child sent the pool what is not a message of the protocol (not JSON, an unknown kind, a
   * field of the wrong type, too long), or stopped reading the pool's: the pool kills it.
   */
  TQ_ERR_CHILD_MESSAGE: 'malformed message from a child',
  /** A child grew its held-tasks file past the slots it may use: the pool kills it. */
  TQ_ERR_CHILD_HELD_TASKS: 'held-tasks file beyond its slots',
  /**
   * A child does not run as the user and group the pool started it as (uid, euid, gid, egid):
   * it refuses to load the plugin, so that plugin code never runs as anyone else.
   */
  TQ_ERR_CHILD_IDENTITY: 'child not running as its user',
  /**
   * The broker refused the user, password or vhost (AMQP 403 ACCESS_REFUSED, 530 NOT_ALLOWED):
   * a configuration error, not retried (exit 78).
   */
  TQ_ERR_AMQP_ACCESS_REFUSED: 'broker refused user or vhost',
  /** A task's `reply_to` names a queue of the system: its result takes the configured route. */
  TQ_ERR_REPLY_TO_REFUSED: 'reply_to refused',
  /** A task body that is not valid UTF-8 (published straight to a worker queue). */
  TQ_ERR_TASK_NOT_UTF8: 'task body not UTF-8',
  /**
   * The broker refused a published message for good (406 PRECONDITION_FAILED on basic.publish,
   * e.g. larger than its max_message_size) and closed the channel: sending it again cannot help.
   */
  TQ_ERR_AMQP_REFUSED: 'message refused by broker',
  /** A task body that is not a JSON object (nor text/plain): the plugin never sees it. */
  TQ_ERR_TASK_UNREADABLE: 'task body unreadable',
  /** The broker cancelled a consumer (its queue was deleted): the child consumes again. */
  TQ_ERR_AMQP_CONSUMER_CANCELLED: 'consumer cancelled by broker',
  /** A task's result the broker refuses for good (larger than its max_message_size). */
  TQ_ERR_RESULT_TOO_LARGE: 'result too large for the broker',
  /**
   * A group's user cannot read the child's entry point or the plugin's package (a directory on
   * the way lacks x, or the file r, for that user): the pool refuses the group before it forks
   * any child; a reload tries again.
   */
  TQ_ERR_GROUP_UNREADABLE: "group's user cannot read the code it would run",
  /** No trusted plugin on the plugin paths provides the type (`taskqueue run-task`). */
  TQ_ERR_PLUGIN_MISSING: 'no plugin provides the type',
  /**
   * The pool would refuse the group: it lacks a setting its plugin requires, or its `user`
   * cannot be switched to (`taskqueue run-task`; the pool logs the same reason).
   */
  TQ_ERR_GROUP_REFUSED: 'group refused',
  /** A plugin's import did not finish in time (`taskqueue plugins`, which loads each plugin). */
  TQ_ERR_PLUGIN_LOAD_TIMEOUT: 'plugin load timed out',
  /**
   * `taskqueue-plugin-deb` was given what is not a taskqueue plugin's npm tarball: not a gzip'd
   * tar, no plugin package.json, no API range, its entry module missing, native code.
   */
  TQ_ERR_PLUGIN_DEB_INPUT: 'not a taskqueue plugin tarball',
  /** `taskqueue-plugin-deb` could not build: npm or dpkg-deb missing or failing. */
  TQ_ERR_PLUGIN_DEB_BUILD: 'plugin package build failed',
  /**
   * A group's children failed to start more often than restart intensity allows: the group is
   * paused, and retried when the pause ends or on a reload (log line `GROUP FAILED`).
   */
  TQ_ERR_GROUP_FAILED: 'group failed',
  /**
   * As TQ_ERR_GROUP_FAILED, but every one of those children was killed by a signal the pool did
   * not send (an operator, the OOM killer): not the plugin's failure (log line `group paused`).
   */
  TQ_ERR_GROUP_PAUSED: 'group paused',
  /** A child exited without being asked to; the group restarts it after a delay. */
  TQ_ERR_CHILD_EXITED: 'child exited unasked',
  /** A child died holding a task: the task counts a crash and is requeued (`max_crashes`). */
  TQ_ERR_TASK_CRASHED: 'consumer died with the task',
  /** A task reached `max_crashes`: parked on `worker_<type>.dead` as poison. */
  TQ_ERR_TASK_POISON: 'poison task parked',
  /**
   * `taskqueue purge` was given a queue that is not one of the system's (input, `.invalid`,
   * `worker_<type>` and its `.dead` and retry queues, results, `taskqueue.unroutable`): refused,
   * a neighbour's queue on a shared vhost is not ours to empty.
   */
  TQ_ERR_CLI_NOT_OUR_QUEUE: 'not a queue of taskqueue',
  /** `taskqueue dead requeue|drop --id` named a task that is not on the queue: the others were done. */
  TQ_ERR_DEAD_NOT_FOUND: 'parked task not found',
  /**
   * `taskqueue queues` could not use the management API (unreachable, refused, not enabled): it
   * says so and shows what a passive declare gives instead.
   */
  TQ_ERR_MANAGEMENT_API: 'management API unavailable',
  /**
   * A daemon's metrics endpoint is on (`metrics_listen`) but its `metrics_token_file` cannot be
   * read, or holds no token: the daemon does not start (an endpoint without the token the
   * operator asked for would be open to every local user).
   */
  TQ_ERR_METRICS_TOKEN: 'metrics token unreadable',
  /** A daemon cannot listen on its `metrics_listen` address (in use, not of this host). */
  TQ_ERR_METRICS_LISTEN: 'metrics endpoint cannot listen',
  /**
   * `taskqueue status`: no daemon answers on a status socket (no such file, nobody listening, no
   * answer in time, or an answer that is not a status): the daemon is down or its socket is off.
   */
  TQ_ERR_STATUS_UNREACHABLE: 'status socket unreachable',
  /** `taskqueue status`: the socket refuses this user (only root and group taskqueue may connect). */
  TQ_ERR_STATUS_DENIED: 'status socket permission denied',
  /**
   * A daemon cannot open its status socket (its directory is missing, another process answers on
   * it, a file that is no socket is in the way): it runs on, without one, and says why.
   */
  TQ_ERR_STATUS_SOCKET: 'status socket not opened',
  /** A status socket was sent what is not a request of its protocol (the daemon's answer). */
  TQ_ERR_STATUS_REQUEST: 'malformed status request',
  /**
   * The task store's schema is newer than this program knows (a newer taskqueue-api migrated
   * it): the program refuses to use it rather than write to a schema it does not understand.
   */
  TQ_ERR_STORE_SCHEMA_NEWER: 'task store schema newer than this program',
  /** A task store query the store cannot run: a cursor it did not hand out, a bad field path. */
  TQ_ERR_STORE_QUERY: 'invalid task store query',
  /** taskqueue-api: a request without a bearer token (and not from loopback when that is allowed). */
  TQ_ERR_API_UNAUTHENTICATED: 'API token missing',
  /** taskqueue-api: a bearer token that is not in the tokens file. */
  TQ_ERR_API_TOKEN_INVALID: 'API token unknown',
  /** taskqueue-api: a token whose role is below the route's (read < retry < operate). */
  TQ_ERR_API_FORBIDDEN: 'API token lacks the role',
  /** taskqueue-api: the request body is not JSON (or not of type application/json). */
  TQ_ERR_API_MALFORMED_JSON: 'request body is not JSON',
  /** taskqueue-api: the request body is larger than `[api] max_body_size`. */
  TQ_ERR_API_BODY_TOO_LARGE: 'request body too large',
  /**
   * taskqueue-api: a body, query or path that does not match the route's schema (a wrong type, a
   * missing or unknown field); the message names the field. Nothing was stored.
   */
  TQ_ERR_API_INVALID_REQUEST: 'request does not match the schema',
  /** taskqueue-api: no task has this id in the store (never "pending"). */
  TQ_ERR_API_TASK_NOT_FOUND: 'task not found',
  /** taskqueue-api: no route for this method and path. */
  TQ_ERR_API_NOT_FOUND: 'no such API route',
  /**
   * taskqueue-api: the task was recorded but the broker did not confirm its publish (unreachable,
   * nack, unroutable); the task stays `submitted` and a submit with the same idempotency key
   * publishes it again.
   */
  TQ_ERR_API_PUBLISH: 'task not published',
  /**
   * taskqueue-api: the tokens file cannot be read, is readable by others than its owner and group,
   * or has a malformed line: the daemon does not start.
   */
  TQ_ERR_API_TOKENS_FILE: 'API tokens file unusable',
  /** taskqueue-api: the `[api] store` cannot be opened (or that back end is not in this build). */
  TQ_ERR_API_STORE: 'task store unavailable',
  /** taskqueue-api: cannot listen on `[api] listen` (in use, not an address of this host). */
  TQ_ERR_API_LISTEN: 'API cannot listen',
  /** taskqueue-api: the request body's Content-Type is not application/json. */
  TQ_ERR_API_MEDIA_TYPE: 'request body must be application/json',
  /** taskqueue-api: a fault of the daemon itself (a store error, say); the log has the cause. */
  TQ_ERR_API_INTERNAL: 'internal API error',
  /**
   * A lifecycle event the tracker cannot read (not JSON, an unknown version or event, a field of
   * the wrong kind or too large): parked on `taskqueue.tracker.invalid`, never applied.
   */
  TQ_ERR_EVENT_INVALID: 'invalid lifecycle event',
  /**
   * taskqueue-api, HTTP 503: a request that works on the broker (queues, dead letters) could not
   * reach it, or the broker failed it partway (the message says what was done).
   */
  TQ_ERR_API_BROKER: 'broker unavailable for this request',
  /** taskqueue-api, HTTP 404: the queue asked for does not exist (nothing was ever parked there). */
  TQ_ERR_API_QUEUE_NOT_FOUND: 'no such queue',
  /**
   * `taskqueue task` / `tasks`: no API to ask: `[api] url` (or `--api`, `TASKQUEUE_API_URL`) not
   * set, or no token given.
   */
  TQ_ERR_CLI_NO_API: 'no API configured',
  /** `taskqueue task` / `tasks`: the API could not be reached, or answered what is not its JSON. */
  TQ_ERR_CLI_API_UNREACHABLE: 'API unreachable',
  /** `taskqueue task` / `tasks`: the API refused the request (its code and message are shown). */
  TQ_ERR_CLI_API_REFUSED: 'API refused the request',
  /**
   * A task cancelled (`POST /v1/tasks/:id/cancel`): one not started is never run, one running
   * had its signal aborted and stopped. Its error result carries this code; never retried.
   */
  TQ_ERR_TASK_CANCELLED: 'task cancelled',
  /** API, HTTP 409: the task already reached a final state; nothing left to cancel. */
  TQ_ERR_API_TASK_FINAL: 'task already final',
  /** A message on `taskqueue.cancels` that is not a cancel or a mark: skipped, logged. */
  TQ_ERR_CANCEL_INVALID: 'invalid cancel message',
  /**
   * API, HTTP 409: a retry of a task that is not in a state a retry starts from (failed,
   * poisoned, incomplete, expired): it is still on its way, succeeded, invalid or cancelled.
   */
  TQ_ERR_API_NOT_RETRYABLE: 'task cannot be retried in its state',
  /**
   * API, HTTP 409: a retry of a task whose workitem the store does not have whole (first seen by
   * the dispatcher with a copy cut at the cap, or never received): it cannot be published again.
   */
  TQ_ERR_API_NO_WORKITEM: 'task workitem not stored whole',
  /** API, HTTP 404: `GET /` with `[api] dashboard = yes` but no built dashboard (npm run build). */
  TQ_ERR_API_DASHBOARD_MISSING: 'dashboard not built',
  /**
   * A task past its deadline (`x-taskqueue-expires-at`, from `--ttl`, the API or the AMQP
   * `expiration`): not run; its error result carries this code and its final event is `expired`.
   */
  TQ_ERR_TASK_EXPIRED: 'task expired before it ran',
  /**
   * `max_priority` the broker cannot honour on the type's queue type (quorum queues before
   * RabbitMQ 4.0, above 1 on 4.0–4.2, above 31 from 4.3: amqp/broker-features.ts): the
   * dispatcher stops with exit 78, a pool's child fails its start, and the message says what
   * this broker accepts.
   */
  TQ_ERR_PRIORITY_UNSUPPORTED: 'priority not supported by the broker',
  /**
   * A delay that cannot be honoured: `x-taskqueue-not-before` or `x-taskqueue-expires-at` not an
   * ISO 8601 time, or a due time further than the longest delay (7 days) ahead.
   */
  TQ_ERR_DELAY_INVALID: 'invalid delay or deadline',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** An error with a stable `code` and, where there is one, the `cause` that led to it. */
export class TqError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TqError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** True when `err` is a TqError with `code` (by value, so it works across module copies). */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
