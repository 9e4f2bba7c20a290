import { EXPIRES_AT_HEADER, NOT_BEFORE_HEADER } from '../common/amqp/wire.js';
import { TqError } from '../common/errors.js';
import {
  parseAtTime,
  parseDuration,
  resolveSchedule,
  type Schedule,
  ScheduleProblem,
  untilText,
} from '../common/schedule.js';

/**
 * `taskqueue submit`'s --priority, --delay, --at and --ttl as typed (strings, so that what is
 * refused is said in the user's words), turned into the task's schedule before anything is
 * published. The rules are the API's (src/common/schedule.ts).
 */
export interface ScheduleOptions {
  priority?: number;
  delay?: string;
  at?: string;
  ttl?: string;
}

/** What --help says of each option; main.ts and the man page say the same. */
export const SCHEDULE_HELP = {
  priority: 'AMQP priority 0-255; honoured up to the max_priority of the type (docs/priorities.md)',
  delay: 'start no earlier than D from now: 90 (seconds), 90s, 10m, 2h, 1d, 1.5h; at most 7d',
  at:
    'start no earlier than TIME: ISO 8601 with a zone (2026-12-07T14:30:00Z, …+01:00), or ' +
    '"YYYY-MM-DD HH:MM[:SS]" in the local time zone of this command (TZ); not with --delay',
  ttl: 'do not run the task if it has not started D after it is due (durations as --delay)',
} as const;

const usage = (message: string) => new TqError('TQ_ERR_CLI_USAGE', message);

/**
 * The schedule these options ask for, at `nowMs`.
 *
 * @throws TqError TQ_ERR_CLI_USAGE naming the option and what it takes
 */
export function scheduleFromOptions(options: ScheduleOptions, nowMs: number): Schedule {
  if (options.delay !== undefined && options.at !== undefined) {
    throw usage('--delay and --at both say when the task starts: give one');
  }
  const duration = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const ms = parseDuration(text);
    if (ms === undefined) {
      throw usage(
        `--${name} ${JSON.stringify(text)}: not a duration (90 for seconds, 90s, 10m, 2h, 1d, 1.5h)`,
      );
    }
    return ms;
  };
  let notBeforeMs: number | undefined;
  if (options.at !== undefined) {
    notBeforeMs = parseAtTime(options.at);
    if (notBeforeMs === undefined) {
      throw usage(
        `--at ${JSON.stringify(options.at)}: not a time (ISO 8601 with a zone, 2026-12-07T14:30:00Z, or a local "2026-12-07 14:30")`,
      );
    }
  }
  const priority = options.priority;
  if (priority !== undefined && Number.isNaN(priority)) {
    throw usage('--priority: not a number (a whole number 0 to 255)');
  }
  try {
    return resolveSchedule(
      {
        ...(priority === undefined ? {} : { priority }),
        ...optional('delayMs', duration('delay', options.delay)),
        ...optional('notBeforeMs', notBeforeMs),
        ...optional('ttlMs', duration('ttl', options.ttl)),
      },
      nowMs,
    );
  } catch (err) {
    if (!(err instanceof ScheduleProblem)) throw err;
    throw usage(`${optionOf(err.message, options)}${err.message}`);
  }
}

const optional = <K extends string>(key: K, value: number | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, number>>;

/** The option a schedule problem is about, as a prefix of its message. */
function optionOf(message: string, options: ScheduleOptions): string {
  if (message.startsWith('priority')) return '--priority: ';
  if (message.startsWith('the ttl')) return '--ttl: ';
  if (message.includes('not-before') || message.includes('wait at most')) {
    return options.at !== undefined ? '--at: ' : '--delay: ';
  }
  if (message.startsWith('the delay')) return '--delay: ';
  return '';
}

/** The message properties a schedule sets: the two headers (absolute times) and `priority`. */
export function scheduleProperties(schedule: Schedule): {
  priority?: number;
  headers?: Record<string, string>;
} {
  const headers: Record<string, string> = {
    ...(schedule.notBefore === undefined ? {} : { [NOT_BEFORE_HEADER]: schedule.notBefore }),
    ...(schedule.expiresAt === undefined ? {} : { [EXPIRES_AT_HEADER]: schedule.expiresAt }),
  };
  return {
    ...(schedule.priority === undefined ? {} : { priority: schedule.priority }),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
  };
}

/** `task <id> waits until 2026-12-07T12:10:00.000Z (in 10m)`: what submit says of a delayed task. */
export function waitsLine(id: string, notBefore: string, nowMs: number): string {
  return `task ${id} waits until ${notBefore} (in ${untilText(Date.parse(notBefore) - nowMs)})`;
}
