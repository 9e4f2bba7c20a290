/**
 * pino's level names and numbers: the numbers are what a log line's `level` field carries, and
 * what log shippers that know pino's format map back to names.
 */
export const LEVEL_VALUES = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
} as const;

export type LevelName = keyof typeof LEVEL_VALUES;
export type LineLevel = Exclude<LevelName, 'silent'>;

/** Every name a `log_level` or `TASKQUEUE_LOG_LEVEL` may take, most severe first. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function isLevelName(name: string): name is LevelName {
  return Object.hasOwn(LEVEL_VALUES, name);
}
