import type { Attempt } from '../api/types';
import { duration } from '../format';
import { Time } from './time';

/** The timeline of a task's attempts, oldest first, each with where it ran and how it ended. */
export function AttemptsList({ attempts }: { attempts: Attempt[] }) {
  if (attempts.length === 0) return <p>No attempt yet.</p>;
  return (
    <ol class="attempts">
      {attempts.map((attempt, index) => (
        <li key={index}>
          <h3>
            Attempt {attempt.attempt ?? index + 1}
            {attempt.run && attempt.run > 1 ? `, run ${attempt.run}` : ''}
          </h3>
          <dl class="facts">
            <dt>run</dt>
            <dd>{attempt.run ?? 1}</dd>
            <dt>host</dt>
            <dd>{attempt.host ?? '—'}</dd>
            <dt>pid</dt>
            <dd class="mono">{attempt.pid ?? '—'}</dd>
            <dt>user</dt>
            <dd>{attempt.user ?? '—'}</dd>
            <dt>started</dt>
            <dd>
              <Time iso={attempt.startedAt} />
            </dd>
            <dt>ended</dt>
            <dd>
              <Time iso={attempt.endedAt} />
            </dd>
            <dt>duration</dt>
            <dd>{duration(attempt.startedAt, attempt.endedAt)}</dd>
            {attempt.error && (
              <>
                <dt>error</dt>
                <dd>
                  <pre class="error-text">{attempt.error}</pre>
                </dd>
              </>
            )}
            {attempt.errorCode && (
              <>
                <dt>error code</dt>
                <dd class="mono">{attempt.errorCode}</dd>
              </>
            )}
          </dl>
          {attempt.crashLog && attempt.crashLog.length > 0 && (
            <details open>
              <summary>crash log ({attempt.crashLog.length} lines)</summary>
              <pre class="log">{attempt.crashLog.join('\n')}</pre>
            </details>
          )}
        </li>
      ))}
    </ol>
  );
}
