/**
 * The lifecycle events of a task on the wire (v1), as the dispatcher and the children publish
 * them to `taskqueue.events` and the tracker reads them (docs/wire-format.md "Lifecycle events").
 * One JSON object a message; the parser for the tracker's side is parse.ts.
 */

/** Every event, in the order a task usually meets them. */
export const EVENT_NAMES = [
  'received',
  'invalid',
  'started',
  'retrying',
  'succeeded',
  'failed',
  'poisoned',
  'expired',
  'cancelled',
] as const;
export type EventName = (typeof EVENT_NAMES)[number];

/** The events after which a task is done with: published confirmed before the task's ack. */
export const FINAL_EVENTS: readonly EventName[] = [
  'invalid',
  'succeeded',
  'failed',
  'poisoned',
  'expired',
  'cancelled',
];

export const EVENT_VERSION = 1;

/** The body of one event message. `workitem` on `received` only, `result` on finals only. */
export interface WireEvent {
  v: typeof EVENT_VERSION;
  event: EventName;
  taskId: string;
  /** The worker type; empty on an `invalid` task whose type could not be read. */
  type: string;
  /** ISO 8601 UTC. */
  at: string;
  /** The task message's run (RUN_HEADER), when above 1: the API retried the task. */
  run?: number;
  attempt?: number;
  host?: string;
  pid?: number;
  user?: string;
  durationMs?: number;
  error?: string;
  errorCode?: string;
  crashLog?: string[];
  nextAttemptAt?: string;
  /** `received`: the task waits in the broker's delay ladder until then (ISO 8601). */
  notBefore?: string;
  /** `received`: the task's deadline; past it, it is not run but answered `expired` (ISO 8601). */
  expiresAt?: string;
  workitem?: unknown;
  result?: unknown;
  /**
   * The copy (`workitem` or `result`) was larger than COPY_CAP_BYTES: it is then a string, the
   * first bytes of its JSON (or text) cut at a character boundary.
   */
  truncated?: boolean;
}
