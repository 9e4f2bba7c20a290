import { readFileSync } from 'node:fs';
import { TqError } from '../errors.js';
import { readIni } from './parse.js';
import { type ResolveOptions, resolveConfig } from './resolve.js';
import type { Config } from './types.js';

/** Where the daemons look for their config when `-c` is not given (SPEC §2). */
export const DEFAULT_CONFIG_FILE = '/etc/taskqueue/config.ini';

/**
 * Reads, parses and validates the config file (synchronously: it happens once, before anything
 * else could run). `options` adds check-config's checks of this host.
 *
 * @throws TqError `TQ_ERR_CONFIG_READ`, `TQ_ERR_CONFIG_SYNTAX` or `TQ_ERR_CONFIG_VALUE`.
 */
export function loadConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  options: ResolveOptions = {},
): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = osReason(err);
    throw new TqError('TQ_ERR_CONFIG_READ', `${file}: cannot read the config file: ${reason}`, {
      cause: err,
      details: { file, reason, errno: (err as NodeJS.ErrnoException).code },
    });
  }
  return parseConfigText(text, file, env, options);
}

/**
 * Parses and validates config text as if read from `file` (used in messages only).
 *
 * @throws TqError `TQ_ERR_CONFIG_SYNTAX` or `TQ_ERR_CONFIG_VALUE`.
 */
export function parseConfigText(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  options: ResolveOptions = {},
): Config {
  return resolveConfig(readIni(text, file), env, options);
}

// Node's message is "ENOENT: no such file or directory, open '/x'"; the file is named already.
function osReason(err: unknown): string {
  const { code, message } = err as NodeJS.ErrnoException;
  const match = /^[A-Z0-9]+: ([^,]+)/.exec(message ?? '');
  if (match && code) return `${match[1]} (${code})`;
  return message ?? String(err);
}
