import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMIT, parseListQuery } from '../../../src/api/routes/list-query.js';
import { hasCode } from '../../../src/common/errors.js';

const refusedWith = (query: Record<string, string>) => {
  try {
    parseListQuery(query);
  } catch (err) {
    return hasCode(err, 'TQ_ERR_API_INVALID_REQUEST');
  }
  return false;
};

describe('parseListQuery', () => {
  it('defaults to the first page of DEFAULT_LIMIT', () => {
    expect(parseListQuery({})).toEqual({ limit: DEFAULT_LIMIT });
  });

  it('reads states, type, times, limit, cursor and one field filter', () => {
    expect(
      parseListQuery({
        state: 'failed,poisoned,failed',
        type: 'build',
        since: '2026-12-01',
        until: '2026-12-06T10:00:00+01:00',
        limit: '20',
        cursor: 'abc',
        'field.repo.name': 'taskqueue',
      }),
    ).toEqual({
      state: ['failed', 'poisoned'],
      type: 'build',
      since: '2026-12-01T00:00:00.000Z',
      until: '2026-12-06T09:00:00.000Z',
      limit: 20,
      cursor: 'abc',
      field: { path: 'fields.repo.name', value: 'taskqueue' },
    });
  });

  it.each<Record<string, string>>([
    { state: 'pending' },
    { since: 'yesterday' },
    { until: '12/06/2026' },
    { limit: '0' },
    { limit: '1001' },
    { 'field.a': '1', 'field.b': '2' },
  ])('refuses %o with TQ_ERR_API_INVALID_REQUEST', (query) => {
    expect(refusedWith(query)).toBe(true);
  });
});
