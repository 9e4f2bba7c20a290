// @ts-check
/**
 * Reads and validates the shell plugin's INI settings. Every problem is reported with the INI key,
 * the section(s) it is looked up in, and what was expected.
 */
import { isAbsolute } from 'node:path';
import { CommandSyntaxError, splitArgv } from './split-argv.js';

/** @typedef {import('@taskqueue/plugin-api').Settings} Settings */

/**
 * What a task runs, as validated from the settings.
 *
 * @typedef {object} CommandSpec
 * @property {string} file the program spawned (`/bin/sh` when `shell = yes`)
 * @property {string[]} args its arguments
 * @property {string} label how messages name the command (its program, never the whole line)
 * @property {string | undefined} cwd working directory, absolute; undefined = the worker's own
 * @property {Record<string, string>} env variables added to the worker's environment
 */

/** The shell used when `shell = yes`. */
export const SHELL = '/bin/sh';

/** ConfigParser's boolean spellings (`getboolean`), compared case-insensitively. */
const TRUE_WORDS = ['1', 'yes', 'true', 'on'];
const FALSE_WORDS = ['0', 'no', 'false', 'off'];

/** Prefix of the keys that become environment variables. */
const ENV_PREFIX = 'env_';
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** A setting that is missing or malformed. */
export class SettingsError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'SettingsError';
  }
}

/**
 * Names the section(s) a key of this worker is looked up in, for messages.
 *
 * @param {string | undefined} type
 * @param {string | undefined} instance
 * @returns {string} e.g. `[convert]`, or `[convert_a] (or [convert])` for an instance
 */
export function sectionOf(type, instance) {
  if (type === undefined) return '[<type>]';
  return instance === undefined ? `[${type}]` : `[${type}_${instance}] (or [${type}])`;
}

/**
 * @param {Settings} settings the plugin's settings (instance → type → DEFAULT)
 * @param {string} section where the keys are looked up, for messages (see {@link sectionOf})
 * @returns {CommandSpec}
 * @throws {SettingsError}
 */
export function parseSettings(settings, section) {
  /** @param {string} key @param {string} problem */
  const fail = (key, problem) =>
    new SettingsError(`shell plugin: setting "${key}" in section ${section} ${problem}`);

  const command = settings.command?.trim() ?? '';
  if (command === '') {
    throw fail(
      'command',
      'is required: the program to run for each task, e.g. "command = /usr/local/bin/my-task --json"',
    );
  }

  const shell = parseBoolean(settings.shell, 'shell', fail);
  /** @type {string[]} */
  let argv;
  if (shell) {
    // "$0" of the script, shown in ps and in the shell's own error messages.
    argv = [SHELL, '-c', command, 'taskqueue-shell'];
  } else {
    try {
      argv = splitArgv(command);
    } catch (err) {
      if (!(err instanceof CommandSyntaxError)) throw err;
      throw fail('command', `cannot be split into words: ${err.message}`);
    }
    if (argv.length === 0 || argv[0] === '') {
      throw fail('command', 'names no program (its first word is empty)');
    }
  }

  const cwd = settings.cwd?.trim() || undefined;
  if (cwd !== undefined && !isAbsolute(cwd)) {
    throw fail('cwd', `must be an absolute path, not "${cwd}"`);
  }

  /** @type {Record<string, string>} */
  const env = {};
  for (const [key, value] of Object.entries(settings)) {
    if (!key.toLowerCase().startsWith(ENV_PREFIX)) continue;
    // INI keys are case-insensitive (ConfigParser lower-cases them), environment names are not:
    // names are always upper-cased, so env_path and env_PATH both set PATH.
    const name = key.slice(ENV_PREFIX.length).toUpperCase();
    if (!ENV_NAME.test(name)) {
      throw fail(key, `does not name an environment variable (letters, digits and _ after env_)`);
    }
    env[name] = value;
  }

  const [file, ...args] = argv;
  return {
    file: /** @type {string} */ (file),
    args,
    label: shell ? `${SHELL} -c` : /** @type {string} */ (file),
    cwd,
    env,
  };
}

/**
 * @param {string | undefined} value
 * @param {string} key
 * @param {(key: string, problem: string) => Error} fail
 */
function parseBoolean(value, key, fail) {
  const word = value?.trim().toLowerCase() ?? '';
  if (word === '' || FALSE_WORDS.includes(word)) return false;
  if (TRUE_WORDS.includes(word)) return true;
  throw fail(key, `must be yes or no (or true/false, on/off, 1/0), not "${value}"`);
}
