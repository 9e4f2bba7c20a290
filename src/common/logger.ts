import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout (one event a line, for the journal and log shippers); human-readable when
 * stdout is a terminal. `TASKQUEUE_LOG_PRETTY=0/1` overrides the guess.
 */
export function createLogger(
  name: string,
  level = process.env.TASKQUEUE_LOG_LEVEL ?? 'info',
): Logger {
  const prettyEnv = process.env.TASKQUEUE_LOG_PRETTY;
  const pretty = prettyEnv === undefined ? process.stdout.isTTY === true : prettyEnv === '1';
  const options = { name, level, base: { pid: process.pid } };
  if (!pretty) return pino(options, pino.destination({ dest: 1, sync: true }));
  return pino({
    ...options,
    transport: {
      target: 'pino-pretty',
      options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'hostname' },
    },
  });
}
