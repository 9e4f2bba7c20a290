import { existsSync } from 'node:fs';
import { loadConfig, parseConfigText } from '../common/config/load.js';
import { AMQP_URL_ENV } from '../common/config/resolve-amqp.js';
import type { Config } from '../common/config/types.js';

/** Where a command's config came from, and the one line to tell the user when that is not obvious. */
export interface CommandConfig {
  config: Config;
  /** The file read, or undefined for the built-in defaults. */
  file: string | undefined;
  /** Said on stderr before the command runs (the broker a newcomer did not choose). */
  notice: string | undefined;
}

/**
 * A file named with -c must exist (exit 78 otherwise). The default file may be absent: then the
 * built-in defaults apply, and unless TASKQUEUE_AMQP_URL names the broker, the command says which
 * broker it uses, so nobody publishes to guest@localhost without knowing. Every command,
 * check-config included, decides this here, so they agree.
 */
export function commandConfig(
  file: string,
  explicit: boolean,
  env: NodeJS.ProcessEnv = process.env,
): CommandConfig {
  if (explicit || existsSync(file))
    return { config: loadConfig(file, env), file, notice: undefined };
  const config = parseConfigText('', '<built-in defaults>', env);
  const fromEnv = (env[AMQP_URL_ENV]?.trim() ?? '') !== '';
  const notice = fromEnv
    ? undefined
    : `no ${file}; using ${shownUrl(config.amqp.urls[0] ?? '')} — set -c or ${AMQP_URL_ENV}`;
  return { config, file: undefined, notice };
}

/** The URL without its password, and the default vhost `/` shown as the bare path. */
function shownUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^/@:]*):[^/@]*@/, '$1@').replace(/\/%2F$/, '/');
}
