import { useEffect, useRef, useState } from 'preact/hooks';
import { type ApiError, seg } from '../api/client';
import type { DeadActionResult, ParkedList, QueueRow, QueuesReport } from '../api/types';
import { ErrorAlert, StatusLine } from '../components/alert';
import { ConfirmDialog } from '../components/confirm-dialog';
import { ParkedTable } from '../components/parked-table';
import { focusBack } from '../focus';
import { count, plural } from '../format';
import { hrefs, INVALID_QUEUE } from '../router';
import { useSession } from '../session';
import { useLoad } from '../use-load';

const POLL_MS = 5000;

type Verb = 'requeue' | 'drop';
const DONE: Record<Verb, string> = { requeue: 'requeued', drop: 'dropped' };

/** What an action works on: some ids, or every parked task. */
type Target = { ids: string[] } | { all: true };

interface Pending {
  verb: Verb;
  target: Target;
  count: number;
}

/** The route segment of a parked queue: its worker type, or `_invalid` for the input's. */
function routeOf(queue: QueueRow): string {
  if (queue.role === 'invalid') return INVALID_QUEUE;
  return queue.name.replace(/^worker_/, '').replace(/\.dead$/, '');
}

/** `/v1/dead/<type>` or `/v1/invalid`. */
function apiPath(queue: string): string {
  return queue === INVALID_QUEUE ? '/v1/invalid' : `/v1/dead/${seg(queue)}`;
}

/**
 * Dead letters and invalid input: the parked queues with their counts, and the chosen one's
 * tasks with requeue and drop, by row, by selection or all. "All" and every drop first ask the
 * API for a dry-run count and let the user confirm it.
 */
export function Dead({ queue }: { queue: string | undefined }) {
  const { api } = useSession();
  const queues = useLoad(() => api.get<QueuesReport>('/v1/queues'), [api], POLL_MS);
  const parkedQueues = (queues.data?.queues ?? []).filter(
    (q) => q.exists && (q.role === 'dead' || q.role === 'invalid'),
  );
  return (
    <>
      <h1 id="page-title" tabIndex={-1}>
        Dead letters
      </h1>
      <ErrorAlert error={queues.error} />
      <section aria-label="Parked queues">
        {queues.data && parkedQueues.length === 0 && <p>No parked queue exists.</p>}
        {!queues.data && !queues.error && <p class="loading">Loading…</p>}
        {parkedQueues.length > 0 && (
          <ul class="parked-queues">
            {parkedQueues.map((q) => (
              <li key={q.name}>
                <a
                  href={hrefs.dead(routeOf(q))}
                  aria-current={routeOf(q) === queue ? 'page' : undefined}
                >
                  <span class="mono">{q.name}</span>: {count(q.ready)}
                </a>
              </li>
            ))}
          </ul>
        )}
      </section>
      {queue ? (
        <ParkedQueue key={queue} queue={queue} />
      ) : (
        <p>Choose a queue to see its parked tasks.</p>
      )}
    </>
  );
}

function ParkedQueue({ queue }: { queue: string }) {
  const { api, whoami } = useSession();
  const list = useLoad(() => api.get<ParkedList>(apiPath(queue)), [api, queue]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [pending, setPending] = useState<Pending | undefined>(undefined);
  const [status, setStatus] = useState<string | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const opener = useRef<HTMLElement | null>(null);
  const canRequeue = whoami.can.requeue;
  const canDrop = whoami.can.drop;

  // Forget selected ids that are no longer parked.
  useEffect(() => {
    const here = new Set((list.data?.tasks ?? []).map((t) => t.message_id ?? t.correlation_id));
    setSelected((current) => new Set([...current].filter((id) => here.has(id))));
  }, [list.data]);

  async function post(verb: Verb, target: Target, dryRun: boolean): Promise<DeadActionResult> {
    return api.post<DeadActionResult>(`${apiPath(queue)}/${verb}`, { ...target, dryRun });
  }

  /** Requeue by id goes at once; "all" and every drop are counted first and confirmed. */
  async function start(verb: Verb, target: Target) {
    opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    setError(undefined);
    setStatus(undefined);
    setBusy(true);
    try {
      if (verb === 'requeue' && 'ids' in target) await finish(verb, target);
      else {
        const dry = await post(verb, target, true);
        setPending({ verb, target, count: dry.count });
      }
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  }

  async function finish(verb: Verb, target: Target) {
    const result = await post(verb, target, false);
    const missing = result.missing.length > 0 ? `; ${result.missing.length} no longer there` : '';
    setStatus(`${DONE[verb]} ${result.count}${missing}`);
    setSelected(new Set());
    list.reload();
  }

  async function confirm() {
    if (!pending) return;
    const { verb, target } = pending;
    setPending(undefined);
    setBusy(true);
    try {
      await finish(verb, target);
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
      // The button that asked, unless it went with its row or has nothing left to act on.
      focusBack(opener.current, 'parked-title');
    }
  }

  const name = list.data?.queue ?? (queue === INVALID_QUEUE ? 'invalid input' : queue);
  const ids = [...selected];
  const tasks = list.data?.tasks ?? [];
  return (
    <section aria-labelledby="parked-title">
      <h2 id="parked-title" tabIndex={-1}>
        <span class="mono">{name}</span>
      </h2>
      {(canRequeue || canDrop) && (
        <div class="actions">
          {canRequeue && (
            <button
              type="button"
              disabled={busy || ids.length === 0}
              onClick={() => void start('requeue', { ids })}
            >
              Requeue selected
            </button>
          )}
          {canDrop && (
            <button
              type="button"
              class="danger"
              disabled={busy || ids.length === 0}
              onClick={() => void start('drop', { ids })}
            >
              Drop selected
            </button>
          )}
          {canRequeue && (
            <button
              type="button"
              disabled={busy || tasks.length === 0}
              onClick={() => void start('requeue', { all: true })}
            >
              Requeue all
            </button>
          )}
          {canDrop && (
            <button
              type="button"
              class="danger"
              disabled={busy || tasks.length === 0}
              onClick={() => void start('drop', { all: true })}
            >
              Drop all
            </button>
          )}
        </div>
      )}
      <StatusLine text={status} />
      <ErrorAlert error={error} />
      <ErrorAlert error={list.error} />
      {list.data && (
        <ParkedTable
          tasks={tasks}
          caption={`${plural(list.data.total, 'task')} parked on ${list.data.queue}${
            list.data.shown < list.data.total ? `, the oldest ${list.data.shown} shown` : ''
          }`}
          selected={selected}
          onSelect={(id, on) =>
            setSelected((current) => {
              const next = new Set(current);
              if (on) next.add(id);
              else next.delete(id);
              return next;
            })
          }
          canRequeue={canRequeue}
          canDrop={canDrop}
          busy={busy}
          onRequeue={(id) => void start('requeue', { ids: [id] })}
          onDrop={(id) => void start('drop', { ids: [id] })}
        />
      )}
      {!list.data && !list.error && <p class="loading">Loading…</p>}
      {pending && (
        <ConfirmDialog
          title={pending.verb === 'requeue' ? 'Requeue parked tasks?' : 'Drop parked tasks?'}
          text={`${plural(pending.count, 'task')} would be ${DONE[pending.verb]}${
            pending.verb === 'drop' ? ' for good' : ' to the input queue'
          }.`}
          onConfirm={() => void confirm()}
          onCancel={() => setPending(undefined)}
          returnTo={opener.current}
        />
      )}
    </section>
  );
}
