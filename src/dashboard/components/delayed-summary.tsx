import type { DelayedSummary } from '../api/types';
import { duration, plural, until } from '../format';
import { hrefs } from '../router';
import { Time } from './time';

/**
 * What the broker's delay ladder holds (GET /v1/queues `delayed`): how many tasks wait there and
 * the one due soonest, with a link to the delayed tasks. Nothing when the ladder was not seen.
 */
export function DelayedLine({ delayed }: { delayed: DelayedSummary | undefined }) {
  if (delayed === undefined || delayed.total === null) return null;
  const first = delayed.soonest?.[0];
  return (
    <p class="note" data-testid="delayed-summary">
      <a href={hrefs.tasks({ state: 'delayed' })}>{plural(delayed.total, 'task')} delayed</a> in the
      broker
      {delayed.due_within_ms !== null && delayed.total > 0
        ? `, all due within ${duration(new Date(0).toISOString(), new Date(delayed.due_within_ms).toISOString())}`
        : ''}
      {first && (
        <>
          ; next due <Time iso={first.due} /> ({until(first.due)}, {first.type})
        </>
      )}
      .
    </p>
  );
}
