import type { TaskRecord } from '../../api/store/types.js';
import {
  DELAY_LEVELS,
  DELAY_UNIT_MS,
  delayQueue,
  delayQueueLevel,
  levelDelayMs,
} from '../../common/amqp/delay-names.js';
import { untilText } from '../../common/schedule.js';
import type { QueueRow } from './queue-row.js';

/**
 * The delay ladder's level queues as `taskqueue queues` and the dashboard show them (issue 30;
 * docs/delays.md): one "delayed" row with their sums instead of 23 rows, a summary of what the
 * ladder holds, and, from the API's store, the delayed tasks due soonest.
 */

/** The name the grouped row goes by: every level queue. */
export const DELAYED_ROW_NAME = 'taskqueue.delay.*';

/** How many of the soonest delayed tasks are shown. */
export const SOONEST_SHOWN = 10;

/** One level queue that holds tasks now. */
export interface DelayLevel {
  level: number;
  queue: string;
  /** How long this level holds a task (its x-message-ttl). */
  holds_ms: number;
  /** Ready + unacked (null where the source cannot say). */
  tasks: number | null;
}

/** A delayed task as the report lists it. */
export interface DelayedTask {
  id: string;
  type: string;
  /** ISO: not started before. */
  due: string;
}

export interface DelayedSummary {
  /** Tasks in the ladder now (all level queues); null when no level queue was seen. */
  total: number | null;
  /** The levels holding tasks, lowest first. */
  levels: DelayLevel[];
  /**
   * Every task in the ladder is due within this: one at level N has at most that level and the
   * ones below left, less than 2^(N+1) units. Null when the ladder is empty.
   */
  due_within_ms: number | null;
  /** The delayed tasks due soonest (the API's store); null when they could not be asked for. */
  soonest: DelayedTask[] | null;
  /** Why `soonest` is null, and how to list them. */
  soonest_note: string | null;
}

/**
 * Takes the level queues out of `rows` and puts one row `taskqueue.delay.*` (role `delayed`,
 * their sums) where the first was; returns it with the summary (soonest not yet asked).
 */
export function groupDelayQueues(rows: QueueRow[]): { rows: QueueRow[]; delayed: DelayedSummary } {
  const levelRows = rows.filter((row) => delayQueueLevel(row.name) !== undefined);
  const summary: DelayedSummary = {
    total: null,
    levels: [],
    due_within_ms: null,
    soonest: null,
    soonest_note: null,
  };
  if (levelRows.length === 0) return { rows, delayed: summary };
  const existing = levelRows.filter((row) => row.exists);
  const sum = (pick: (row: QueueRow) => number | null): number | null =>
    existing.some((row) => pick(row) === null)
      ? null
      : existing.reduce((total, row) => total + (pick(row) ?? 0), 0);
  const grouped: QueueRow = {
    name: DELAYED_ROW_NAME,
    role: 'delayed',
    exists: existing.length > 0,
    ready: sum((row) => row.ready),
    unacked: sum((row) => row.unacked),
    consumers: sum((row) => row.consumers),
    rate_in: sum((row) => row.rate_in),
    rate_out: sum((row) => row.rate_out),
  };
  for (const row of existing) {
    const level = delayQueueLevel(row.name)!;
    const tasks = row.ready === null ? null : row.ready + (row.unacked ?? 0);
    if (tasks === 0) continue;
    summary.levels.push({ level, queue: row.name, holds_ms: levelDelayMs(level), tasks });
  }
  summary.levels.sort((a, b) => a.level - b.level);
  summary.total = grouped.ready === null ? null : grouped.ready + (grouped.unacked ?? 0);
  const top = summary.levels.at(-1)?.level;
  summary.due_within_ms = top === undefined ? null : (2 ** (top + 1) - 1) * DELAY_UNIT_MS;
  const first = rows.indexOf(levelRows[0]!);
  const others = rows.filter((row) => !levelRows.includes(row));
  others.splice(Math.min(first, others.length), 0, grouped);
  return { rows: others, delayed: summary };
}

/** Every level queue's name, for a passive look (they exist once the ladder is declared). */
export const delayQueueNames = (): string[] =>
  Array.from({ length: DELAY_LEVELS }, (_, level) => delayQueue(level));

/** The SOONEST_SHOWN delayed tasks due first, of those given (any order). */
export function soonestDelayed(tasks: readonly TaskRecord[]): DelayedTask[] {
  return tasks
    .filter((task) => task.state === 'delayed' && task.notBefore !== undefined)
    .map((task) => ({ id: task.id, type: task.types.join(','), due: task.notBefore! }))
    .sort((a, b) => a.due.localeCompare(b.due) || a.id.localeCompare(b.id))
    .slice(0, SOONEST_SHOWN);
}

/** `due 12:00:05Z, in 4m` (the date too when it is not today, UTC). */
export function dueText(due: string, nowMs: number): string {
  const ms = Date.parse(due);
  const iso = new Date(ms).toISOString();
  const sameDay = iso.slice(0, 10) === new Date(nowMs).toISOString().slice(0, 10);
  const time = `${sameDay ? iso.slice(11, 19) : `${iso.slice(0, 10)} ${iso.slice(11, 19)}`}Z`;
  return ms > nowMs ? `due ${time}, in ${untilText(ms - nowMs)}` : `due ${time}, now`;
}

/** A duration as the summary says it: `800ms`, `12.8s`, `6m 50s`, `1d 3h`. */
export function spanText(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ''}`;
  return untilText(ms);
}

/** The lines `taskqueue queues` prints about the ladder, after its table. */
export function delayedLines(delayed: DelayedSummary, nowMs: number): string[] {
  const lines: string[] = [];
  if (delayed.total === null) {
    // No level queue seen: the ladder is not declared (no dispatcher of issue 30 ran yet).
  } else if (delayed.total === 0 || delayed.levels.length === 0) {
    lines.push('delayed: none waiting in the delay ladder');
  } else {
    const low = delayed.levels[0]!;
    const high = delayed.levels.at(-1)!;
    const levels =
      low.level === high.level
        ? `level ${pad(low.level)} (holds ${spanText(low.holds_ms)})`
        : `levels ${pad(low.level)}-${pad(high.level)} (hold ${spanText(low.holds_ms)} to ${spanText(high.holds_ms)} each)`;
    lines.push(
      `delayed: ${delayed.total} task${delayed.total === 1 ? '' : 's'} in ${levels}; all due within ${spanText(delayed.due_within_ms!)}`,
    );
  }
  if (delayed.soonest !== null) {
    lines.push(
      delayed.soonest.length > 0
        ? 'soonest delayed tasks (API):'
        : 'soonest delayed tasks (API): none recorded as delayed',
    );
    const idWidth = Math.max(0, ...delayed.soonest.map((t) => t.id.length));
    const typeWidth = Math.max(0, ...delayed.soonest.map((t) => t.type.length));
    for (const task of delayed.soonest) {
      lines.push(
        `  ${task.id.padEnd(idWidth)}  ${task.type.padEnd(typeWidth)}  ${dueText(task.due, nowMs)}`,
      );
    }
  }
  if (delayed.soonest_note !== null) lines.push(delayed.soonest_note);
  return lines;
}

const pad = (level: number) => String(level).padStart(2, '0');
