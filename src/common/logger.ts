import { fstatSync } from 'node:fs';
import { TqError } from './errors.js';
import { isLevelName, LEVEL_VALUES, type LevelName, LOG_LEVELS } from './log/levels.js';
import { jsonFields, logLine } from './log/line.js';
import { prettyFormatter, writeLine } from './log/output.js';

/** Logs one event: its fields (or just its message) and its message. */
export type LogFn = (fields: object | string, msg?: string) => void;

/** A structured logger with pino's methods and line layout, as much of it as taskqueue uses. */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** A logger whose every line also carries these fields. */
  child(bindings: object): Logger;
  isLevelEnabled(level: LevelName): boolean;
}

/**
 * JSON lines on stdout (one event a line, for the journal and log shippers), in pino's layout;
 * human-readable when stdout is a terminal. `TASKQUEUE_LOG_PRETTY=0/1` overrides the guess.
 *
 * Not pino itself: loading pino's modules costs resident memory in every idle process, and a busy
 * child peaked higher with it than without (figures in bench/FINDINGS.md).
 */
export function createLogger(
  name: string,
  level = process.env.TASKQUEUE_LOG_LEVEL ?? 'info',
  write: (line: string) => void = stdoutWriter(),
): Logger {
  if (!isLevelName(level)) {
    throw new TqError(
      'TQ_ERR_CONFIG_VALUE',
      `log level "${level}": expected one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  const base = `,"pid":${process.pid},"name":${JSON.stringify(name)}`;
  return new JsonLogger(LEVEL_VALUES[level], base, write);
}

function stdoutWriter(): (line: string) => void {
  const prettyEnv = process.env.TASKQUEUE_LOG_PRETTY;
  const pretty = prettyEnv === undefined ? stdoutIsTerminal() : prettyEnv === '1';
  if (!pretty) return (line) => writeLine(1, line);
  const format = prettyFormatter();
  return (line) => writeLine(1, format(line));
}

/**
 * `isatty(1)`, not `process.stdout.isTTY`: a daemon need not build a stream it never uses. Only a
 * character device can be a terminal: checked first, a daemon's journal socket, pipe or file
 * answers without loading node:tty (resident memory in every process; bench/FINDINGS.md).
 */
function stdoutIsTerminal(): boolean {
  try {
    if (!fstatSync(1).isCharacterDevice()) return false;
  } catch {
    return false; // no stdout at all
  }
  return process.getBuiltinModule('node:tty').isatty(1);
}

class JsonLogger implements Logger {
  readonly #threshold: number;
  /** The bindings, already serialized: a child logger pays for them once, not per line. */
  readonly #prefix: string;
  readonly #write: (line: string) => void;

  constructor(threshold: number, prefix: string, write: (line: string) => void) {
    this.#threshold = threshold;
    this.#prefix = prefix;
    this.#write = write;
  }

  trace: LogFn = (fields, msg) => this.#log(LEVEL_VALUES.trace, fields, msg);
  debug: LogFn = (fields, msg) => this.#log(LEVEL_VALUES.debug, fields, msg);
  info: LogFn = (fields, msg) => this.#log(LEVEL_VALUES.info, fields, msg);
  warn: LogFn = (fields, msg) => this.#log(LEVEL_VALUES.warn, fields, msg);
  error: LogFn = (fields, msg) => this.#log(LEVEL_VALUES.error, fields, msg);
  fatal: LogFn = (fields, msg) => this.#log(LEVEL_VALUES.fatal, fields, msg);

  child(bindings: object): Logger {
    return new JsonLogger(this.#threshold, this.#prefix + jsonFields(bindings), this.#write);
  }

  isLevelEnabled(level: LevelName): boolean {
    return LEVEL_VALUES[level] >= this.#threshold;
  }

  #log(level: number, fields: unknown, msg: unknown): void {
    if (level < this.#threshold) return;
    this.#write(logLine(level, this.#prefix, ...eventFields(fields, msg)));
  }
}

/** As pino: a lone string is the message, a lone Error is `err` and gives the message. */
function eventFields(fields: unknown, msg: unknown): [string, unknown] {
  if (typeof fields === 'string') return ['', fields];
  if (fields instanceof Error) return [jsonFields({ err: fields }), msg ?? fields.message];
  if (typeof fields !== 'object' || fields === null) return ['', msg ?? String(fields)];
  return [jsonFields(fields), msg];
}
