import { useEffect, useState } from 'preact/hooks';
import { type ApiError, seg } from '../api/client';
import { isFinal, isRetryable, type Task } from '../api/types';
import { ErrorAlert, StatusLine } from '../components/alert';
import { AttemptsList } from '../components/attempts-list';
import { CopyButton } from '../components/copy-button';
import { ResponsesList } from '../components/responses-list';
import { ResultView } from '../components/result-view';
import { StateBadge } from '../components/state-badge';
import { Time } from '../components/time';
import { duration, pretty, until } from '../format';
import { hrefs } from '../router';
import { useSession } from '../session';
import { useLoad } from '../use-load';

/** One task: its state, attempts, result and workitem; read again on each change of its id. */
export function TaskPage({ id }: { id: string }) {
  const { api, stream, whoami } = useSession();
  const loaded = useLoad(() => api.get<{ task: Task }>(`/v1/tasks/${seg(id)}`), [api, id]);
  const [actionError, setActionError] = useState<ApiError | undefined>(undefined);
  const [status, setStatus] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const offEvent = stream.onEvent((event) => {
      if (event.taskId === id) loaded.reload();
    });
    const offResync = stream.onResync(loaded.reload);
    return () => {
      offEvent();
      offResync();
    };
  }, [stream, id, loaded.reload]);

  const task = loaded.data?.task;

  async function act(action: 'retry' | 'cancel') {
    setBusy(true);
    setActionError(undefined);
    setStatus(undefined);
    try {
      await api.post(`/v1/tasks/${seg(id)}/${action}`);
      setStatus(action === 'retry' ? 'retry started' : 'cancel asked for');
      loaded.reload();
    } catch (err) {
      setActionError(err as ApiError);
    } finally {
      setBusy(false);
    }
  }

  const link = `${window.location.origin}${window.location.pathname}${hrefs.task(id)}`;
  const canRetry = task && whoami.can.retry && isRetryable(task.state);
  const canCancel = task && whoami.can.cancel && !isFinal(task.state);
  const fanOut = task && ((task.types?.length ?? 0) > 1 || (task.responses?.length ?? 0) > 0);

  return (
    <>
      <h1 id="page-title" tabIndex={-1} class="task-title">
        Task <span class="mono">{id}</span>
      </h1>
      <div class="actions">
        <CopyButton label="Copy id" text={id} />
        <CopyButton label="Copy link" text={link} />
        {canRetry && (
          <button type="button" disabled={busy} onClick={() => void act('retry')}>
            Retry
          </button>
        )}
        {canCancel && (
          <button type="button" class="danger" disabled={busy} onClick={() => void act('cancel')}>
            Cancel
          </button>
        )}
      </div>
      <StatusLine text={status} />
      <ErrorAlert error={actionError} />
      <ErrorAlert error={loaded.error} />
      {!task && !loaded.error && <p class="loading">Loading…</p>}
      {task && (
        <>
          <dl class="facts summary-facts">
            <dt>state</dt>
            <dd>
              <StateBadge state={task.state} testId="task-state" />
            </dd>
            <dt>type</dt>
            <dd>{(task.types ?? [task.type ?? '—']).join(', ')}</dd>
            <dt>run</dt>
            <dd>{task.run ?? 1}</dd>
            <dt>source</dt>
            <dd>{task.source ?? '—'}</dd>
            <dt>created</dt>
            <dd>
              <Time iso={task.createdAt} />
            </dd>
            <dt>finished</dt>
            <dd>
              <Time iso={task.finishedAt} />
            </dd>
            <dt>duration</dt>
            <dd>{duration(task.createdAt, task.finishedAt)}</dd>
            {task.notBefore && (
              <>
                <dt>{task.state === 'delayed' ? 'waits until' : 'not before'}</dt>
                <dd data-testid="task-not-before">
                  <Time iso={task.notBefore} />
                  {task.state === 'delayed' ? ` (${until(task.notBefore)})` : ''}
                </dd>
              </>
            )}
            {task.expiresAt && (
              <>
                <dt>deadline</dt>
                <dd data-testid="task-deadline">
                  <Time iso={task.expiresAt} />
                </dd>
              </>
            )}
          </dl>

          <section aria-labelledby="attempts-title">
            <h2 id="attempts-title">Attempts</h2>
            <AttemptsList attempts={task.attempts ?? []} />
          </section>

          {fanOut && (
            <section aria-labelledby="responses-title">
              <h2 id="responses-title">Responses</h2>
              <ResponsesList responses={task.responses ?? []} />
            </section>
          )}

          <section aria-labelledby="result-title">
            <h2 id="result-title">Result</h2>
            {task.resultTruncated && (
              <p class="note">
                Truncated: the store keeps results up to{' '}
                {task.resultCap ? `${task.resultCap} bytes` : 'its cap'}.
              </p>
            )}
            <ResultView result={task.result} />
          </section>

          <section aria-labelledby="workitem-title">
            <h2 id="workitem-title">Workitem</h2>
            {task.workitemTruncated && (
              <p class="note">Truncated: the store kept only part of this workitem.</p>
            )}
            <pre class="json">{pretty(task.workitem)}</pre>
          </section>
        </>
      )}
    </>
  );
}
