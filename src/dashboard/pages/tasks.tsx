import { useEffect, useMemo, useState } from 'preact/hooks';
import { type ApiError, seg } from '../api/client';
import type { Task, TaskPage } from '../api/types';
import { ErrorAlert } from '../components/alert';
import { TaskFilterForm } from '../components/task-filter-form';
import { TasksTable } from '../components/tasks-table';
import { hrefs, navigate } from '../router';
import { useSession } from '../session';
import { throttle, useLoad } from '../use-load';
import { fieldSearch, filtersOf, listQuery, type TaskFilters } from './task-filters';

const PAGE_SIZE = 50;

/**
 * The task list: the filters live in the route (shareable), pages go by the API's keyset
 * cursors (Older follows `next`, Newer goes back through the cursors that led here). Live: a
 * known row takes each state change at once; on the first page a change re-reads the page (at
 * most once a second), so new tasks matching the filters appear on top.
 */
export function Tasks({ query }: { query: Record<string, string> }) {
  const { api, stream } = useSession();
  const filters = useMemo(() => filtersOf(query), [query]);
  const filterKey = JSON.stringify(filters);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [previous, setPrevious] = useState<(string | undefined)[]>([]);
  const [searchError, setSearchError] = useState<ApiError | string | undefined>(undefined);

  useEffect(() => {
    setCursor(undefined);
    setPrevious([]);
  }, [filterKey]);

  const page = useLoad(
    () => api.get<TaskPage>('/v1/tasks', listQuery(filters, cursor, PAGE_SIZE)),
    [api, filterKey, cursor],
  );
  const [rows, setRows] = useState<Task[] | undefined>(undefined);
  useEffect(() => setRows(page.data?.tasks), [page.data]);

  const firstPage = cursor === undefined;
  useEffect(() => {
    const again = throttle(page.reload, 1000);
    const offEvent = stream.onEvent((event) => {
      setRows((current) =>
        current?.map((task) => (task.id === event.taskId ? { ...task, state: event.state } : task)),
      );
      if (firstPage) again.call();
    });
    const offResync = stream.onResync(page.reload);
    return () => {
      offEvent();
      offResync();
      again.cancel();
    };
  }, [stream, page.reload, firstPage]);

  async function apply(next: TaskFilters) {
    setSearchError(undefined);
    if (next.q !== '' && !fieldSearch(next.q)) {
      // Not field=value: a task id. Open it when there is one; say so when there is none.
      try {
        await api.get(`/v1/tasks/${seg(next.q)}`);
        navigate(hrefs.task(next.q));
      } catch (err) {
        setSearchError(err as ApiError);
      }
      return;
    }
    navigate(hrefs.tasks({ ...next }));
  }

  const described = describe(filters);
  return (
    <>
      <h1 id="page-title" tabIndex={-1}>
        Tasks
      </h1>
      <TaskFilterForm filters={filters} onApply={(next) => void apply(next)} />
      <ErrorAlert error={searchError} />
      <ErrorAlert error={page.error} />
      {rows ? (
        <TasksTable
          tasks={rows}
          caption={`${firstPage ? 'Newest tasks' : 'Older tasks'}${described}, ${rows.length} shown`}
        />
      ) : (
        !page.error && <p class="loading">Loading…</p>
      )}
      <div class="pager">
        <button
          type="button"
          class="secondary"
          disabled={previous.length === 0}
          onClick={() => {
            setCursor(previous[previous.length - 1]);
            setPrevious(previous.slice(0, -1));
          }}
        >
          Newer
        </button>
        <button
          type="button"
          class="secondary"
          disabled={!page.data?.next}
          onClick={() => {
            if (!page.data?.next) return;
            setPrevious([...previous, cursor]);
            setCursor(page.data.next);
          }}
        >
          Older
        </button>
      </div>
    </>
  );
}

function describe(filters: TaskFilters): string {
  const parts: string[] = [];
  if (filters.state) parts.push(`state ${filters.state}`);
  if (filters.type) parts.push(`type ${filters.type}`);
  if (filters.since) parts.push(`since ${new Date(filters.since).toLocaleString()}`);
  if (filters.until) parts.push(`until ${new Date(filters.until).toLocaleString()}`);
  if (filters.q) parts.push(filters.q);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}
