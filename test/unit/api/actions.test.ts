import { describe, expect, it } from 'vitest';
import { ACTION_ROLES, capabilities } from '../../../src/api/auth/actions.js';

describe('ACTION_ROLES and capabilities', () => {
  it('retry and requeue need retry; submit, cancel and drop need operate', () => {
    expect(ACTION_ROLES).toEqual({
      submit: 'operate',
      retry: 'retry',
      cancel: 'operate',
      requeue: 'retry',
      drop: 'operate',
    });
  });

  it('what each role can do follows from the table', () => {
    expect(capabilities('read')).toEqual({
      submit: false,
      retry: false,
      cancel: false,
      requeue: false,
      drop: false,
    });
    expect(capabilities('retry')).toEqual({
      submit: false,
      retry: true,
      cancel: false,
      requeue: true,
      drop: false,
    });
    expect(capabilities('operate')).toEqual({
      submit: true,
      retry: true,
      cancel: true,
      requeue: true,
      drop: true,
    });
  });
});
