import { readFileSync } from 'node:fs';
import { TqError } from '../common/errors.js';

/** The argument that asks `submit` to read its fields from stdin. */
export const STDIN_ARGUMENT = '-';

/**
 * True when the command line after `command` (`submit`, `run-task`) holds a lone `-`. yargs
 * turns a `-` positional into an empty string, which would read as "no fields", so the raw
 * arguments decide.
 */
export function asksForStdin(args: readonly string[], command = 'submit'): boolean {
  const start = args.indexOf(command);
  return start >= 0 && args.slice(start + 1).includes(STDIN_ARGUMENT);
}

/**
 * The fields argument as text: stdin for `-`. An empty stdin is a usage error, not an empty
 * task: a pipe that produced nothing is almost always a mistake upstream.
 */
export function readFields(
  fields: string | undefined,
  readStdin = () => readFileSync(0, 'utf8'),
): string | undefined {
  if (fields !== STDIN_ARGUMENT) return fields;
  const text = readStdin();
  if (text.trim() === '') {
    throw new TqError(
      'TQ_ERR_CLI_USAGE',
      'fields from stdin: stdin is empty; expected a JSON object',
    );
  }
  return text;
}
