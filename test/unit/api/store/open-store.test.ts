import { describe, expect, it } from 'vitest';
import { storeKind } from '../../../../src/api/store/open-store.js';

describe('storeKind', () => {
  it('reads a postgres URL as PostgreSQL and anything else as a SQLite path', () => {
    expect(storeKind('postgres://tq@db/tasks')).toBe('postgres');
    expect(storeKind('postgresql://tq@db/tasks')).toBe('postgres');
    expect(storeKind('/var/lib/taskqueue/tasks.db')).toBe('sqlite');
    expect(storeKind(undefined)).toBe('sqlite');
  });
});
