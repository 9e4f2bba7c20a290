import type { TaskResponse } from '../api/types';
import { ResultView } from './result-view';
import { StateBadge } from './state-badge';
import { Time } from './time';

/** A fan-out's answer per type. */
export function ResponsesList({ responses }: { responses: TaskResponse[] }) {
  if (responses.length === 0) return <p>No type answered yet.</p>;
  return (
    <ul class="responses">
      {responses.map((response) => (
        <li key={response.type}>
          <h3>
            {response.type ?? '—'} <StateBadge state={response.state ?? 'unknown'} />
          </h3>
          <p class="muted">
            updated <Time iso={response.updatedAt} />
          </p>
          {response.error && (
            <p class="error-text">
              {response.error}
              {response.errorCode ? ` (${response.errorCode})` : ''}
            </p>
          )}
          {response.result !== undefined && <ResultView result={response.result} />}
          {response.resultTruncated && <p class="note">The result was cut at the store's cap.</p>}
        </li>
      ))}
    </ul>
  );
}
