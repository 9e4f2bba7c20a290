import type { WireEvent } from '../../common/tracking/event.js';
import type { TaskEvent } from '../store/types.js';

/**
 * An event as the store applies it. `truncated` says the copy (`workitem` on `received`,
 * `result` on a final) was cut to the cap: the store records it as workitemTruncated or
 * resultTruncated (TaskStore's TaskEvent does not name it yet: the merge adds it there).
 */
export type TrackedEvent = TaskEvent & { truncated?: boolean };

export function toTaskEvent(wire: WireEvent): TrackedEvent {
  const { v: _version, ...event } = wire;
  return event;
}
