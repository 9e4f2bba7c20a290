/**
 * A task past its `timeout` has its AbortSignal fired; if the plugin has not let go this much
 * later, its child records the failed attempt and is replaced. The engine's, which `runTask`
 * uses too.
 */
export { TIMEOUT_GRACE_MS } from '@taskqueue/plugin-api/engine';
/**
 * The pool's backstop for a child whose event loop is stuck (a plugin spinning in a loop cannot
 * even notice its timeout): this long after timeout + grace the pool kills it with SIGKILL.
 */
export const WATCHDOG_MARGIN_MS = 3_000;
/** RabbitMQ's default consumer_timeout: a delivery held longer closes its channel. */
export const BROKER_CONSUMER_TIMEOUT_S = 1_800;
