/**
 * The headers that say why the system parked or set aside a message, written by the dispatcher
 * (`<input>.invalid`), the children (`worker_<type>.dead`, retries) and the result route
 * (`taskqueue.unroutable`). Named in wire.ts; kept as a module for the files that import them
 * from here.
 */
export { ERROR_CODE_HEADER, ERROR_HEADER } from './wire.js';
