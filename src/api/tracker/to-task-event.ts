import type { WireEvent } from '../../common/tracking/event.js';
import type { TaskEvent } from '../store/types.js';

/** An event as the store applies it: the wire form without its version. */
export function toTaskEvent(wire: WireEvent): TaskEvent {
  const { v: _version, ...event } = wire;
  return event;
}
