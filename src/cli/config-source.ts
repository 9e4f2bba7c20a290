import { existsSync } from 'node:fs';
import { DEFAULT_CONFIG_FILE, loadConfig, parseConfigText } from '../common/config/load.js';
import type { ResolveOptions } from '../common/config/resolve.js';
import { AMQP_URL_ENV } from '../common/config/resolve-amqp.js';
import type { Config } from '../common/config/types.js';
import { hasCode, TqError } from '../common/errors.js';

/** The group that may read /etc/taskqueue/config.ini (0640 root:taskqueue: it holds the password). */
export const CONFIG_GROUP = 'taskqueue';

/** Where a command's config came from, and the one line to tell the user when that is not obvious. */
export interface CommandConfig {
  config: Config;
  /** The file read, or undefined for the built-in defaults. */
  file: string | undefined;
  /** Said on stderr before the command runs (the broker a newcomer did not choose). */
  notice: string | undefined;
}

/**
 * A file named with -c must exist and be readable (exit 78 otherwise). The default file may be
 * absent: then the built-in defaults apply, and unless TASKQUEUE_AMQP_URL names the broker, the
 * command says which broker it uses, so nobody publishes to guest@localhost without knowing.
 * The default file may also be unreadable to a user outside group taskqueue: with
 * TASKQUEUE_AMQP_URL set the built-in defaults apply (not for check-config, whose job is the
 * file), otherwise the error says how to get access. Every command, check-config included,
 * decides this here, so they agree.
 *
 * @throws TqError `TQ_ERR_CONFIG_READ` (with what to do when it is a permission problem), or
 *   what loadConfig throws.
 */
export function commandConfig(
  file: string,
  explicit: boolean,
  env: NodeJS.ProcessEnv = process.env,
  options: { checking?: boolean; resolve?: ResolveOptions } = {},
): CommandConfig {
  const fromEnv = (env[AMQP_URL_ENV]?.trim() ?? '') !== '';
  if (!explicit && !existsSync(file)) {
    const config = builtIn(env);
    const notice = fromEnv
      ? undefined
      : `no ${file}; using ${shownUrl(config.amqp.urls[0] ?? '')} — set -c or ${AMQP_URL_ENV}`;
    return { config, file: undefined, notice };
  }
  try {
    return { config: loadConfig(file, env, options.resolve), file, notice: undefined };
  } catch (err) {
    if (!isPermissionDenied(err)) throw err;
    if (!explicit && !options.checking && file === DEFAULT_CONFIG_FILE && fromEnv)
      return { config: builtIn(env), file: undefined, notice: undefined };
    throw withAccessHint(err as TqError, file);
  }
}

function builtIn(env: NodeJS.ProcessEnv): Config {
  return parseConfigText('', '<built-in defaults>', env);
}

/** The URL without its password, and the default vhost `/` shown as the bare path. */
function shownUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^/@:]*):[^/@]*@/, '$1@').replace(/\/%2F$/, '/');
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
