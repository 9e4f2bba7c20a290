import type { Query } from '../api/client';

/** The task list's filters as the route keeps them (`#/tasks?state=…&type=…&since=…&until=…&q=…`). */
export interface TaskFilters {
  state: string;
  type: string;
  since: string;
  until: string;
  q: string;
}

export function filtersOf(query: Record<string, string>): TaskFilters {
  return {
    state: query.state ?? '',
    type: query.type ?? '',
    since: query.since ?? '',
    until: query.until ?? '',
    q: query.q ?? '',
  };
}

/** `repo=linux` searches `fields.repo`; `a.b=x` a nested field. Anything else is a task id. */
export function fieldSearch(q: string): { path: string; value: string } | undefined {
  const match = /^\s*([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\s*=(.*)$/.exec(q);
  if (!match) return undefined;
  return { path: match[1] ?? '', value: (match[2] ?? '').trim() };
}

/** GET /v1/tasks's query for these filters (a search that is an id is not a filter). */
export function listQuery(filters: TaskFilters, cursor: string | undefined, limit: number): Query {
  const field = fieldSearch(filters.q);
  return {
    state: filters.state || undefined,
    type: filters.type || undefined,
    since: filters.since || undefined,
    until: filters.until || undefined,
    ...(field ? { [`field.${field.path}`]: field.value } : {}),
    limit: String(limit),
    cursor,
  };
}

/** A datetime-local value (the browser's zone, no seconds) as ISO UTC, and back. */
export function localToIso(local: string): string {
  if (local === '') return '';
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

export function isoToLocal(iso: string): string {
  if (iso === '') return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
