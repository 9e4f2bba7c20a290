/**
 * The states of a task as the API's store keeps them (docs/tracking.md), named once: the store,
 * the routes and the browser dashboard (which bundles this file) read them from here.
 */
export const TASK_STATES = [
  'submitted', // recorded by the API, not yet confirmed published
  'queued', // published to the input queue (API) or seen there by the dispatcher
  'delayed', // waiting in the broker's delay ladder until its not_before (docs/delays.md)
  'dispatched', // forwarded to worker_<type>
  'running',
  'retrying',
  'succeeded',
  'failed',
  'poisoned',
  'invalid',
  'expired',
  'cancelled',
  // A fan-out whose types did not all succeed: some did, some failed (each response says which).
  'incomplete',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** The states a task does not leave by itself; `succeeded` and those after it. */
export const FINAL_STATES = [
  'succeeded',
  'failed',
  'poisoned',
  'invalid',
  'expired',
  'cancelled',
  'incomplete',
] as const satisfies readonly TaskState[];
export type FinalState = (typeof FINAL_STATES)[number];

export const isFinal = (state: string): state is FinalState =>
  (FINAL_STATES as readonly string[]).includes(state);

/**
 * The final states a task can be run again from (POST /v1/tasks/{id}/retry). Not `succeeded`
 * (nothing to retry), not `invalid` (it cannot run), not `cancelled` (an operator decided it
 * must not run; submit it again if that changed).
 */
export const RETRYABLE_STATES: readonly TaskState[] = [
  'failed',
  'poisoned',
  'incomplete',
  'expired',
];

export const isRetryable = (state: string): boolean =>
  (RETRYABLE_STATES as readonly string[]).includes(state);
