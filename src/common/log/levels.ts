/**
 * pino's level names and numbers, most severe first: the numbers are what a log line's `level`
 * field carries, and what log shippers that know pino's format map back to names.
 */
export const LEVEL_VALUES = {
  fatal: 60,
  error: 50,
  warn: 40,
  info: 30,
  debug: 20,
  trace: 10,
  silent: Number.POSITIVE_INFINITY,
} as const;

export type LevelName = keyof typeof LEVEL_VALUES;

/** Every name a `log_level` or `TASKQUEUE_LOG_LEVEL` may take. */
export const LOG_LEVELS = Object.keys(LEVEL_VALUES) as LevelName[];

export function isLevelName(name: string): name is LevelName {
  return Object.hasOwn(LEVEL_VALUES, name);
}
