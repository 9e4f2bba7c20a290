import { type DelayedSummary, delayedLines } from './delayed.js';
import type { QueueRole } from './our-queues.js';

/** One line of `taskqueue queues`; null where the source cannot say. */
export interface QueueRow {
  name: string;
  role: QueueRole;
  /** False: a name the system would use that does not exist (yet). */
  exists: boolean;
  ready: number | null;
  unacked: number | null;
  consumers: number | null;
  /** Messages a second published to the queue (the management API's recent average). */
  rate_in: number | null;
  /** Messages a second delivered from it (deliver and get). */
  rate_out: number | null;
}

/** Where the figures come from, and why not the management API when it was not used. */
export interface QueuesReport {
  source: 'management' | 'passive';
  /** The management API asked (without its password), when it was. */
  management_url: string | null;
  /** Why the management API was not used: its code and message. */
  management_error: { code: string; message: string } | null;
  /** What the source cannot tell. */
  unknown: string[];
  /** The delay ladder's level queues are one row (`taskqueue.delay.*`) in `queues`; this says more. */
  queues: QueueRow[];
  delayed: DelayedSummary;
}

const COLUMNS = ['QUEUE', 'ROLE', 'READY', 'UNACKED', 'CONSUMERS', 'IN/s', 'OUT/s'] as const;

/** The report as text: a line on the source, an aligned table, unknowns as `-`. */
export function reportLines(report: QueuesReport, nowMs = Date.now()): string[] {
  const lines: string[] = [];
  if (report.source === 'management') lines.push(`source: management API ${report.management_url}`);
  else {
    const why = report.management_error
      ? ` (management API not used: ${report.management_error.message} [${report.management_error.code}])`
      : ' (management API not used: --passive)';
    lines.push(`source: passive declares${why}`);
  }
  if (report.unknown.length > 0)
    lines.push(`unknown from this source: ${report.unknown.join(', ')}`);
  const cells = report.queues.map((row) => [
    row.name,
    row.role,
    row.exists ? number(row.ready) : 'missing',
    row.exists ? number(row.unacked) : '',
    row.exists ? number(row.consumers) : '',
    row.exists ? rate(row.rate_in) : '',
    row.exists ? rate(row.rate_out) : '',
  ]);
  const widths = COLUMNS.map((title, i) =>
    Math.max(title.length, ...cells.map((row) => row[i]!.length)),
  );
  // Names and roles left-aligned, figures right-aligned.
  const format = (row: readonly string[]) =>
    row
      .map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  lines.push(format(COLUMNS));
  for (const row of cells) lines.push(format(row));
  lines.push(...delayedLines(report.delayed, nowMs));
  return lines;
}

function number(value: number | null): string {
  return value === null ? '-' : String(value);
}

function rate(value: number | null): string {
  if (value === null) return '-';
  return value >= 10 ? value.toFixed(0) : value.toFixed(1);
}
