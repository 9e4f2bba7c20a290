import { existsSync } from 'node:fs';
import { DEFAULT_CONFIG_FILE, loadConfig, parseConfigText } from '../common/config/load.js';
import type { ResolveOptions } from '../common/config/resolve.js';
import { AMQP_URL_ENV } from '../common/config/resolve-amqp.js';
import type { Config } from '../common/config/types.js';
import { hasCode, TqError } from '../common/errors.js';

/** The group that may read /etc/taskqueue/config.ini (0640 root:taskqueue: it holds the password). */
export const CONFIG_GROUP = 'taskqueue';

/**
 * The config of a command. The default file may be absent (built-in defaults apply then), or
 * unreadable to a user outside group taskqueue: with TASKQUEUE_AMQP_URL set the built-in defaults
 * apply too, otherwise the error says how to get access.
 *
 * @throws TqError `TQ_ERR_CONFIG_READ` (with what to do when it is a permission problem), or
 *   what loadConfig throws.
 */
export function cliConfig(file: string, explicit: boolean, env = process.env): Config {
  if (!explicit && !existsSync(file)) return parseConfigText('', '<built-in defaults>', env);
  try {
    return loadConfig(file, env);
  } catch (err) {
    if (!isPermissionDenied(err)) throw err;
    if (!explicit && file === DEFAULT_CONFIG_FILE && env[AMQP_URL_ENV]?.trim()) {
      return parseConfigText('', '<built-in defaults>', env);
    }
    throw withAccessHint(err as TqError, file);
  }
}

/** `loadConfig` for check-config: the same hint when the file is unreadable, no fallback. */
export function checkedConfig(
  file: string,
  env = process.env,
  options: ResolveOptions = {},
): Config {
  try {
    return loadConfig(file, env, options);
  } catch (err) {
    if (!isPermissionDenied(err)) throw err;
    throw withAccessHint(err as TqError, file);
  }
}

function isPermissionDenied(err: unknown): boolean {
  if (!hasCode(err, 'TQ_ERR_CONFIG_READ')) return false;
  const errno = (err as TqError).details.errno;
  return errno === 'EACCES' || errno === 'EPERM';
}

function withAccessHint(err: TqError, file: string): TqError {
  const hint =
    `only root and group ${CONFIG_GROUP} may read it (it holds the broker password): ask to ` +
    `join the group (adduser $USER ${CONFIG_GROUP}, then log in again), or name another file ` +
    `with -c FILE, or the broker with ${AMQP_URL_ENV}=amqp://user:password@host/vhost`;
  return new TqError('TQ_ERR_CONFIG_READ', `${err.message}; ${hint}`, {
    cause: err.cause,
    details: { ...err.details, file, hint },
  });
}
