import { applyEvent, type StoreCaps } from './precedence.js';
import type { TaskEvent, TaskRecord } from './types.js';

/**
 * `applyBatch` of a store that reads synchronously (SQLite, the memory store): the events
 * applied in order, each task read once however many of its events the batch has, and written
 * once at the end if any of them changed it. What is written is what applying them one at a
 * time would have left; `changed[i]` is what `apply(events[i])` would have answered.
 */
export function applyInOrder(
  events: readonly TaskEvent[],
  load: (id: string) => TaskRecord | undefined,
  caps: StoreCaps,
): { changed: boolean[]; toWrite: TaskRecord[] } {
  const current = new Map<string, TaskRecord | undefined>();
  const dirty = new Set<string>();
  const changed = events.map((event) => {
    const id = event.taskId;
    if (!current.has(id)) current.set(id, load(id));
    const applied = applyEvent(current.get(id), event, caps);
    if (applied.changed) {
      current.set(id, applied.record);
      dirty.add(id);
    }
    return applied.changed;
  });
  return { changed, toWrite: [...dirty].map((id) => current.get(id)!) };
}
