import { allows, type Role } from './tokens.js';

/**
 * The role each action that changes something needs: the routes take their `role` from here, and
 * `GET /v1/whoami` computes what a caller `can` from the same table, so that the dashboard shows
 * exactly the buttons the server lets through.
 */
export const ACTION_ROLES = {
  submit: 'operate',
  retry: 'retry',
  cancel: 'operate',
  requeue: 'retry',
  drop: 'operate',
} as const satisfies Record<string, Role>;

export type Action = keyof typeof ACTION_ROLES;

/** Each action, and whether `role` may do it. */
export function capabilities(role: Role): Record<Action, boolean> {
  return Object.fromEntries(
    Object.entries(ACTION_ROLES).map(([action, needed]) => [action, allows(role, needed)]),
  ) as Record<Action, boolean>;
}
