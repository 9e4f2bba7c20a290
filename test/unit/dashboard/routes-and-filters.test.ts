import { describe, expect, it } from 'vitest';
import { duration, inHandText } from '../../../src/dashboard/format';
import {
  fieldSearch,
  filtersOf,
  isoToLocal,
  listQuery,
  localToIso,
} from '../../../src/dashboard/pages/task-filters';
import { hrefs, parseHash } from '../../../src/dashboard/router';

describe('the dashboard’s hash routes', () => {
  it.each([
    ['', { page: 'overview' }],
    ['#/', { page: 'overview' }],
    ['#/tasks', { page: 'tasks', query: {} }],
    [
      '#/tasks?state=failed&type=echo&q=repo%3Dlinux',
      { page: 'tasks', query: { state: 'failed', type: 'echo', q: 'repo=linux' } },
    ],
    ['#/tasks/6f1c-a%2Fb', { page: 'task', id: '6f1c-a/b' }],
    ['#/dead', { page: 'dead', queue: undefined }],
    ['#/dead/shell', { page: 'dead', queue: 'shell' }],
    ['#/dead/_invalid', { page: 'dead', queue: '_invalid' }],
    ['#/nothing/here', { page: 'not-found', path: '/nothing/here' }],
  ])('%s', (hash, route) => {
    expect(parseHash(hash)).toEqual(route);
  });

  it('makes links that read back as the same route', () => {
    expect(parseHash(hrefs.task('a/b c'))).toEqual({ page: 'task', id: 'a/b c' });
    const query = { state: 'failed', q: 'repo=linux', since: '2026-12-07T01:00:00.000Z' };
    expect(parseHash(hrefs.tasks(query))).toEqual({ page: 'tasks', query });
    expect(hrefs.tasks({ state: '', type: undefined })).toBe('#/tasks');
  });
});

describe('the task list’s filters', () => {
  it('reads field=value as a workitem field, anything else as a task id', () => {
    expect(fieldSearch('repo=linux')).toEqual({ path: 'repo', value: 'linux' });
    expect(fieldSearch(' build.branch = main ')).toEqual({ path: 'build.branch', value: 'main' });
    expect(fieldSearch('6f1c0d2e')).toBeUndefined();
    expect(fieldSearch('=x')).toBeUndefined();
  });

  it('asks GET /v1/tasks with field.<path>, without the empty filters', () => {
    const filters = filtersOf({ state: 'failed', q: 'repo=linux' });
    expect(listQuery(filters, 'CURSOR', 50)).toEqual({
      state: 'failed',
      type: undefined,
      since: undefined,
      until: undefined,
      'field.repo': 'linux',
      limit: '50',
      cursor: 'CURSOR',
    });
    expect(listQuery(filtersOf({ q: 'abc' }), undefined, 50)).not.toHaveProperty('field.abc');
  });

  it('turns a datetime-local value of the browser’s zone into ISO UTC and back', () => {
    const iso = localToIso('2026-12-07T10:30');
    expect(iso).toBe(new Date(2026, 11, 7, 10, 30).toISOString());
    expect(isoToLocal(iso)).toBe('2026-12-07T10:30');
    expect(localToIso('')).toBe('');
    expect(isoToLocal('not a time')).toBe('');
  });
});

describe('duration', () => {
  it.each([
    ['2026-12-07T00:00:00.000Z', '2026-12-07T00:00:00.250Z', '250 ms'],
    ['2026-12-07T00:00:00.000Z', '2026-12-07T00:00:04.200Z', '4.2 s'],
    ['2026-12-07T00:00:00.000Z', '2026-12-07T00:03:20.000Z', '3 min 20 s'],
    ['2026-12-07T00:00:00.000Z', '2026-12-07T02:05:00.000Z', '2 h 5 min'],
    ['2026-12-07T00:00:00.000Z', undefined, '—'],
  ])('%s to %s is %s', (from, to, text) => {
    expect(duration(from, to)).toBe(text);
  });
});

describe("a pool child's tasks in hand", () => {
  it('names the waiting ones only when there are some', () => {
    expect(inHandText(3, 2)).toBe('3 in hand, 2 waiting');
    expect(inHandText(1, 0)).toBe('1 in hand');
    // A pool older than the waiting count.
    expect(inHandText(1, undefined)).toBe('1 in hand');
  });
});
