/**
 * The names the system writes on the wire and that operators, scripts and older peers read by
 * name (SPEC §1): header names, RabbitMQ's direct reply-to pseudo queue and the worker type
 * grammar. Named once here, as queue names are in queues.ts; a literal elsewhere is a bug.
 */

// --- Why a message was parked or set aside (dispatcher, children, result route) -------------

/** Why, in words: on `<input>.invalid`, `worker_<type>.dead`, retries, `taskqueue.unroutable`. */
export const ERROR_HEADER = 'x-taskqueue-error';
/** The stable code (`TQ_ERR_*`) of that reason, where there is one. */
export const ERROR_CODE_HEADER = 'x-taskqueue-error-code';
/** Names the headers dropped because they could not be encoded again (properties.ts). */
export const DROPPED_HEADERS_HEADER = 'x-taskqueue-dropped-headers';
/** On a result sent to the results route instead of a refused `reply_to` (reply-to.ts). */
export const REPLY_TO_REFUSED_HEADER = 'x-taskqueue-reply-to-refused';
/**
 * When a task was parked on `<input>.invalid` or `worker_<type>.dead`: an ISO 8601 UTC time.
 * The `timestamp` property says when the task was published, not when it was set aside.
 */
export const PARKED_AT_HEADER = 'x-taskqueue-parked-at';
/**
 * On a task sent back to the input queue by `taskqueue dead requeue`: a list with one entry a
 * requeue, oldest first, each a JSON object (as text) holding what was cleared then: the reason,
 * its code, the attempt, the crash count and log, when it was parked (docs/dead-letters.md).
 * Text, not tables: the re-encoding path (properties.ts `encodableCopy`) keeps only lists of
 * strings, and history must survive it.
 */
export const HISTORY_HEADER = 'x-taskqueue-history';
/** RabbitMQ's own: why and when the broker dead-lettered a message (the quorum delivery limit). */
export const BROKER_DEATH_HEADER = 'x-death';
/** RabbitMQ's own, on a message delivered again from a quorum queue: its deliveries so far. */
export const BROKER_DELIVERY_COUNT_HEADER = 'x-delivery-count';

/**
 * The prefix of the system's own headers: the only ones kept when a message's properties have
 * to be re-encoded without the sender's (properties.ts `encodableCopy`).
 */
export const SYSTEM_HEADER_PREFIX = 'x-taskqueue-';

// --- A task's past, carried on the task message itself (children) ---------------------------

/** The attempt the next delivery is (retries). */
export const ATTEMPT_HEADER = 'x-taskqueue-attempt';
/** How many children died holding this message (SPEC §1 *Crash*, `max_crashes`). */
export const CRASHES_HEADER = 'x-taskqueue-crashes';
/** One line per crash: how the consumer ended (exit code or signal), its pid and host. */
export const CRASH_LOG_HEADER = 'x-taskqueue-crash-log';

// --- When a task may run (docs/delays.md) ----------------------------------------------------

/**
 * Not before this time (ISO 8601 UTC): the dispatcher sends a task whose time is ahead into the
 * delay ladder (delay-names.ts), a child that receives it early sends it back there. Set by
 * `taskqueue submit --delay/--at`, the API's `notBefore`, and on a retry (its next attempt's time).
 */
export const NOT_BEFORE_HEADER = 'x-taskqueue-not-before';
/**
 * The task's deadline (ISO 8601 UTC): a child that receives it later does not run it but answers
 * an error result (TQ_ERR_TASK_EXPIRED). Set by `--ttl`, the API's `expiresAt`/`ttl`, and by the
 * dispatcher from an input message's AMQP `expiration` (which it then removes, so that the broker
 * never drops a task silently).
 */
export const EXPIRES_AT_HEADER = 'x-taskqueue-expires-at';

// --- On every result (SPEC §1 *Result*) -----------------------------------------------------

/** The worker type that produced the result. */
export const WORKER_TYPE_HEADER = 'x-worker-type';
/** The host the child ran on. */
export const WORKER_HOST_HEADER = 'x-worker-host';
/** Not in SPEC's list: lets operators (and `npm start`) see which child did the work. */
export const WORKER_PID_HEADER = 'x-worker-pid';
/** The attempts the task took. */
export const ATTEMPTS_HEADER = 'x-attempts';
/** How long the last attempt ran, in milliseconds. */
export const DURATION_MS_HEADER = 'x-duration-ms';

// --- Addresses ------------------------------------------------------------------------------

/**
 * RabbitMQ's direct reply-to pseudo queue: what a requester consumes from (`taskqueue submit
 * --wait`), and the prefix of the addresses the broker hands out for it.
 */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

// --- The worker type grammar, written once in worker-type.ts --------------------------------

export {
  isWorkerType,
  RESERVED_TYPE_SEGMENTS,
  WORKER_TYPE_CHARS,
  WORKER_TYPE_PATTERN,
  WORKER_TYPE_RULE,
  workerTypeProblem,
} from '../worker-type.js';

// --- A task's run, when the API ran it again (issue 28, POST /v1/tasks/{id}/retry) ----------

/**
 * On a task message the API published again under the same id: which run it is (2 for the first
 * retry). Kept through forwards, retries and crash requeues like every header; the children's
 * and the dispatcher's lifecycle events carry it, so that the tracker applies no late event of
 * an earlier run to this one. Absent: the first run.
 */
export const RUN_HEADER = 'x-taskqueue-run';
