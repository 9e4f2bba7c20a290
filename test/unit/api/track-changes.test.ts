import { describe, expect, it, vi } from 'vitest';
import { StateChanges } from '../../../src/api/state-changes.js';
import { reportApplied } from '../../../src/api/track-changes.js';
import { createLogger } from '../../../src/common/logger.js';
import { MemoryTaskStore } from '../../support/memory-store.js';

describe('reportApplied', () => {
  it('reads the store for a change only when a stream listens or a reply waits for that task', async () => {
    const store = new MemoryTaskStore();
    const changes = new StateChanges();
    const get = vi.spyOn(store, 'get');
    const report = reportApplied(
      store,
      changes,
      createLogger('test', 'warn', () => {}),
    );
    const at = new Date().toISOString();
    for (const taskId of ['waited', 'other']) {
      await store.apply({ event: 'succeeded', taskId, type: 'a', at, attempt: 1 });
    }
    const heard = vi.fn();
    const unwatch = changes.watch('waited', heard);
    report({ event: 'succeeded', taskId: 'other', type: 'a', at });
    report({ event: 'succeeded', taskId: 'waited', type: 'a', at });
    await vi.waitFor(() => expect(heard).toHaveBeenCalledTimes(1));
    expect(heard).toHaveBeenCalledWith(
      expect.objectContaining({ taskId: 'waited', state: 'succeeded' }),
    );
    expect(get.mock.calls.map(([id]) => id)).toEqual(['waited']);
    unwatch();
    expect(changes.wants('waited')).toBe(false);
  });
});
