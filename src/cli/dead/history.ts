import type { MessageProperties, Options } from 'amqplib';
import { forwardProperties } from '../../common/amqp/properties.js';
import {
  ATTEMPT_HEADER,
  BROKER_DELIVERY_COUNT_HEADER,
  CRASH_LOG_HEADER,
  CRASHES_HEADER,
  DROPPED_HEADERS_HEADER,
  ERROR_CODE_HEADER,
  ERROR_HEADER,
  HISTORY_HEADER,
  PARKED_AT_HEADER,
  RUN_HEADER,
} from '../../common/amqp/wire.js';
import { trackedRunOf } from '../../common/tracking/publish.js';

/** The headers a requeue clears, each kept in the history entry under its JSON name. */
const CLEARED: ReadonlyArray<readonly [string, string]> = [
  [ERROR_HEADER, 'error'],
  [ERROR_CODE_HEADER, 'error_code'],
  [ATTEMPT_HEADER, 'attempt'],
  [CRASHES_HEADER, 'crashes'],
  [CRASH_LOG_HEADER, 'crash_log'],
  [PARKED_AT_HEADER, 'parked_at'],
  [DROPPED_HEADERS_HEADER, 'dropped_headers'],
];

/** Entries kept: the newest. A task requeued more often than this has lost its oldest ones. */
export const MAX_HISTORY_ENTRIES = 20;
/** The longest entry: what properties.ts keeps of a list of strings when it has to re-encode. */
export const MAX_HISTORY_ENTRY_CHARS = 4096;

/** Who requeued and why: the same for every task of one `dead requeue`. */
export interface RequeueRun {
  /** A random id of this run: a task it requeued that comes back parked is not taken twice. */
  id: string;
  /** The queue the tasks come from. */
  from: string;
  /** ISO time of the run. */
  at: string;
}

/**
 * The history entry for a task requeued from `run.from`: the run, then every cleared header it
 * had. Long crash logs lose their oldest lines (`crash_log_dropped` says how many) so that the
 * entry stays within MAX_HISTORY_ENTRY_CHARS.
 */
export function historyEntry(properties: MessageProperties, run: RequeueRun): string {
  const headers = properties.headers ?? {};
  const entry: Record<string, unknown> = { requeued_at: run.at, from: run.from, run: run.id };
  for (const [header, name] of CLEARED) {
    const value = headers[header];
    if (value === undefined) continue;
    entry[name] = Buffer.isBuffer(value) ? value.toString('utf8') : value;
  }
  let text = JSON.stringify(entry);
  const log = Array.isArray(entry.crash_log) ? [...(entry.crash_log as unknown[])] : [];
  let dropped = 0;
  while (text.length > MAX_HISTORY_ENTRY_CHARS && log.length > 0) {
    log.shift();
    dropped++;
    text = JSON.stringify({ ...entry, crash_log: log, crash_log_dropped: dropped });
  }
  if (text.length > MAX_HISTORY_ENTRY_CHARS && typeof entry.error === 'string') {
    const error = entry.error.slice(0, 500);
    text = JSON.stringify({ ...entry, crash_log: log, crash_log_dropped: dropped, error });
  }
  return text.slice(0, MAX_HISTORY_ENTRY_CHARS);
}

/** The history a task carries now (entries that are not text are left out). */
export function historyOf(properties: MessageProperties): string[] {
  const raw = properties.headers?.[HISTORY_HEADER];
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((item) => {
    if (typeof item === 'string') return [item];
    if (Buffer.isBuffer(item)) return [item.toString('utf8')];
    return [];
  });
}

/**
 * The publish options of a parked task sent back to the input queue: its properties as they
 * were (same message id, correlation id, body), the attempt, crash count and log, reason, code
 * and parking time cleared, and those appended to the history header as one entry; the run
 * (RUN_HEADER) one more than the parked message's.
 */
export function requeueOptions(properties: MessageProperties, run: RequeueRun): Options.Publish {
  const options = forwardProperties(properties, {});
  const headers = { ...(options.headers ?? {}) };
  for (const [header] of CLEARED) delete headers[header];
  // The quorum queue's count of looks at .dead; the input queue counts its own.
  delete headers[BROKER_DELIVERY_COUNT_HEADER];
  headers[HISTORY_HEADER] = [...historyOf(properties), historyEntry(properties, run)].slice(
    -MAX_HISTORY_ENTRIES,
  );
  // A new run: its lifecycle events start the task again in the API's store, where the
  // parked run's end is final (precedence.ts runHeardOf).
  headers[RUN_HEADER] = (trackedRunOf(properties) ?? 1) + 1;
  options.headers = headers;
  return options;
}

/** True when this task was requeued by `run` already: it came back parked during the run. */
export function requeuedBy(properties: MessageProperties, run: RequeueRun): boolean {
  const last = historyOf(properties).at(-1);
  if (last === undefined) return false;
  try {
    return (JSON.parse(last) as { run?: unknown }).run === run.id;
  } catch {
    return false;
  }
}
