/** The config layer (SPEC §2): load and validate `/etc/taskqueue/config.ini`. */
export { DEFAULT_CONFIG_FILE, loadConfig, parseConfigText } from './load.js';
export type { ConfigProblem } from './problems.js';
export { AMQP_URL_ENV } from './resolve-amqp.js';
export type * from './types.js';
