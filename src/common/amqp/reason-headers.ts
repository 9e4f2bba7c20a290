/**
 * The headers that say why the system parked or set aside a message, written by the dispatcher
 * (`<input>.invalid`), the children (`worker_<type>.dead`, retries) and the result route
 * (`taskqueue.unroutable`): named once, since operators and scripts read them by name.
 */

/** Why, in words. */
export const ERROR_HEADER = 'x-taskqueue-error';
/** The stable code (`TQ_ERR_*`) of that reason, where there is one. */
export const ERROR_CODE_HEADER = 'x-taskqueue-error-code';
