/**
 * The host's engine: how taskqueue calls a plugin (timeout, signal, grace), decides on a retry
 * and words an error result. The worker child and `runTask` of `./testing` share it, so that a
 * plugin's own tests see what production does.
 *
 * Internal: for taskqueue itself, outside this package's semver promise.
 *
 * @packageDocumentation
 */

export { errorWorkitem, shallowErrorWorkitem } from './engine/error-result.js';
export { type Invocation, type InvokeOptions, invokePlugin, LazyAbort } from './engine/invoke.js';
export { type RetryDecision, retryDecision } from './engine/retry.js';

/**
 * How long a timed-out call may still let go after its signal fired before it counts as hung
 * (the worker child's grace).
 */
export const TIMEOUT_GRACE_MS = 2_000;
