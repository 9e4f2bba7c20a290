import { MAX_DELAY_MS } from './amqp/delay-names.js';

/**
 * When a submitted task may start and until when (issue 30; docs/delays.md), as the CLI's
 * `submit` and the API's POST /v1/tasks both work it out before publishing: absolute ISO times
 * for NOT_BEFORE_HEADER and EXPIRES_AT_HEADER, and the AMQP priority. One set of rules for both,
 * so that a task the CLI refuses the API refuses too.
 */

/** What a submitter asked for; every time in ms since the epoch, every duration in ms. */
export interface ScheduleRequest {
  priority?: number;
  delayMs?: number;
  notBeforeMs?: number;
  ttlMs?: number;
  expiresAtMs?: number;
}

/** What the task is published with. */
export interface Schedule {
  priority?: number;
  /** ISO 8601 UTC with ms; absent when the task is due at once. */
  notBefore?: string;
  expiresAt?: string;
}

/** The AMQP priority property's range (a byte); a queue honours up to its x-max-priority. */
export const MAX_PRIORITY = 255;

/**
 * How far in the past a not-before may be and still mean "now": a client's clock a little behind
 * the server's, or a time computed just before sending. Further back is more likely a mistake
 * (a wrong date or time zone) and is refused.
 */
export const PAST_NOT_BEFORE_GRACE_MS = 60_000;

/**
 * A refusal; `delay` says it is about a delay or deadline (TQ_ERR_DELAY_INVALID on the API) and
 * not the request's shape (TQ_ERR_API_INVALID_REQUEST). The CLI says both as TQ_ERR_CLI_USAGE.
 */
export class ScheduleProblem extends Error {
  constructor(
    message: string,
    readonly delay: boolean,
  ) {
    super(message);
  }
}

/**
 * The schedule of a task submitted at `nowMs`. A delay is counted from now; a ttl from when the
 * task is due (its not-before, else now), so `delay 1h, ttl 10m` means "start between 1 h and
 * 1 h 10 min from now".
 *
 * @throws ScheduleProblem
 */
export function resolveSchedule(request: ScheduleRequest, nowMs: number): Schedule {
  const { priority, delayMs, notBeforeMs, ttlMs, expiresAtMs } = request;
  if (
    priority !== undefined &&
    !(Number.isInteger(priority) && priority >= 0 && priority <= MAX_PRIORITY)
  ) {
    throw new ScheduleProblem(`priority must be a whole number 0 to ${MAX_PRIORITY}`, false);
  }
  if (delayMs !== undefined && notBeforeMs !== undefined) {
    throw new ScheduleProblem('give a delay or a not-before time, not both', false);
  }
  if (ttlMs !== undefined && expiresAtMs !== undefined) {
    throw new ScheduleProblem('give a ttl or an expiry time, not both', false);
  }
  let dueMs = nowMs;
  if (delayMs !== undefined) {
    if (!Number.isFinite(delayMs) || delayMs < 0) {
      throw new ScheduleProblem('the delay must be 0 or more', true);
    }
    dueMs = nowMs + delayMs;
  } else if (notBeforeMs !== undefined) {
    if (!Number.isFinite(notBeforeMs)) throw new ScheduleProblem('not-before is not a time', true);
    if (notBeforeMs < nowMs - PAST_NOT_BEFORE_GRACE_MS) {
      throw new ScheduleProblem(
        `not-before ${iso(notBeforeMs)} is in the past (now ${iso(nowMs)})`,
        true,
      );
    }
    dueMs = Math.max(nowMs, notBeforeMs);
  }
  if (dueMs - nowMs > MAX_DELAY_MS) {
    throw new ScheduleProblem(
      `a task can wait at most ${MAX_DELAY_MS / 86_400_000} days (until ${iso(nowMs + MAX_DELAY_MS)}); asked until ${iso(dueMs)}`,
      true,
    );
  }
  let deadlineMs: number | undefined;
  if (ttlMs !== undefined) {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new ScheduleProblem('the ttl must be more than 0', true);
    }
    deadlineMs = dueMs + ttlMs;
  } else if (expiresAtMs !== undefined) {
    if (!Number.isFinite(expiresAtMs)) throw new ScheduleProblem('expiry is not a time', true);
    if (expiresAtMs <= dueMs) {
      throw new ScheduleProblem(
        `expiry ${iso(expiresAtMs)} is not after the time the task is due (${iso(dueMs)})`,
        true,
      );
    }
    deadlineMs = expiresAtMs;
  }
  return {
    ...(priority === undefined ? {} : { priority }),
    ...(dueMs > nowMs ? { notBefore: iso(dueMs) } : {}),
    ...(deadlineMs === undefined ? {} : { expiresAt: iso(deadlineMs) }),
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration as the CLI takes it: `90` (seconds), `90s`, `10m`, `2h`, `1d`, decimals allowed
 * (`1.5h`); undefined when it is none of these. Rounded to whole ms.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([smhd]?)\s*$/.exec(text);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2] || 's']!);
}

/** A strict ISO 8601 date-time with a time zone (`Z` or `±hh:mm`), as the API takes it. */
const ZONED_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** A date-time without a zone: `2026-12-07 14:30`, `2026-12-07T14:30:15`. */
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/i;

/** ms of an ISO 8601 time with its zone, or undefined (no zone, or not a real date). */
export function parseZonedTime(text: string): number | undefined {
  if (!ZONED_ISO.test(text.trim())) return undefined;
  const ms = Date.parse(text.trim());
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * ms of a time as `--at` takes it: ISO 8601 with a zone, or a date and time without one, read
 * in the local time zone of this process (TZ); undefined when it is neither or not a real date
 * (the 31st of a 30-day month, 25:00).
 */
export function parseAtTime(text: string): number | undefined {
  const zoned = parseZonedTime(text);
  if (zoned !== undefined) return zoned;
  const match = LOCAL_DATE_TIME.exec(text.trim());
  if (!match) return undefined;
  const [y, mo, d, h, mi, s] = match.slice(1).map((v) => Number(v ?? 0)) as number[];
  const date = new Date(y!, mo! - 1, d!, h!, mi!, s!);
  // Date rolls an out-of-range field over (month 13 → next year): such a time is refused.
  const same =
    date.getFullYear() === y &&
    date.getMonth() === mo! - 1 &&
    date.getDate() === d &&
    date.getHours() === h &&
    date.getMinutes() === mi;
  return same ? date.getTime() : undefined;
}

/** "4m", "1h 5m", "2d 3h", "12s": how long until a time, for a person. */
export function untilText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h}h` : `${h}h ${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}d` : `${d}d ${h % 24}h`;
}
