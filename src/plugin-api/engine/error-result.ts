import type { Workitem } from '../index.js';

/** SPEC §1 *Failure*: the input workitem plus `error` and `trace`, the original's shape. */
export function errorWorkitem(workitem: Workitem, err: unknown): Workitem {
  const error = err instanceof Error ? err.message : String(err);
  const trace = err instanceof Error ? (err.stack ?? error) : error;
  return { ...workitem, error, trace };
}

/**
 * The error result of a task whose workitem cannot be serialized as it is (nested deeper than
 * JSON.stringify goes, say): the top-level keys that can be, plus `error` and `trace`, so that a
 * workflow engine still finds its routing fields.
 */
export function shallowErrorWorkitem(workitem: Workitem, err: unknown): Workitem {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(workitem)) {
    try {
      JSON.stringify(value);
      kept[key] = value;
    } catch {
      // Left out: this is the part that cannot be written.
    }
  }
  return errorWorkitem(kept as Workitem, err);
}
