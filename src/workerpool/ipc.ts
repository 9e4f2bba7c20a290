import type { AmqpConfig, GroupConfig } from '../common/config/types.js';
import type { AcceptedApi } from './discovery/api-check.js';
import { isStatsMessage, type StatsMessage } from './task-stats.js';

/** The Unix identity a child switches to before it loads any plugin code. */
export interface ChildIdentity {
  user: string;
  uid: number;
  gid: number;
  home: string;
}

/** All a child needs, sent by the pool over channel.ts (not env: it holds broker credentials). */
export interface ChildSpec {
  group: GroupConfig;
  amqp: AmqpConfig;
  pluginDir: string;
  /**
   * The plugin's version as the pool read it: part of the spec so that a reload after an upgrade
   * (`npm install -g`, a new .deb) sees the group as changed and restarts its children on the new
   * code; a reinstall of the same version is not seen.
   */
  pluginVersion: string;
  /** The plugin's API range as the pool read and accepted it (the child re-checks a change). */
  acceptedApi: AcceptedApi;
  identity: ChildIdentity | undefined;
  logLevel: string;
  /** [dispatcher] queue: a task's reply_to may not name it (child/reply-to.ts). */
  inputQueue: string;
  /** [tracking] enabled: the child publishes its tasks' lifecycle events. */
  tracking?: boolean;
}

/**
 * What the pool knows about a task that comes back redelivered: its last consumer on this host
 * died (`crash`, with the exit code or signal), was killed for running past `timeout`
 * (`timeout`: a failed attempt, not a crash), or let go of it through no fault of the task
 * (`lost`: a lost connection, a stop). Nothing known means a consumer elsewhere was lost.
 */
export type Verdict =
  | { kind: 'crash'; cause: string }
  | { kind: 'timeout'; cause: string }
  /** `code`: a stable reason the next holder acts on (TQ_ERR_RESULT_TOO_LARGE: do not run it again). */
  | { kind: 'lost'; cause: string; code?: string };

/** Pool → child. */
export type ParentMessage =
  | { kind: 'start'; spec: ChildSpec }
  /** The answer to an `ask`. */
  | { kind: 'verdict'; id: number; verdict: Verdict | undefined }
  /** Drain: finish running tasks for `graceMs` (shutdown_timeout), hand back the rest, exit. */
  | { kind: 'stop'; graceMs: number };

/**
 * Child → pool. `ready` comes only after the plugin is loaded, set up and consuming; `recycle`
 * asks for a successor (max_tasks_per_child is near, or max_memory_per_child passed).
 */
export type ChildMessage =
  | { kind: 'ready' }
  /** These tasks go back to the broker through no fault of theirs. */
  | { kind: 'lost'; keys: string[]; cause: string; code?: string }
  /** What does the pool know about this redelivered task? */
  | { kind: 'ask'; id: number; key: string }
  | { kind: 'recycle'; reason: string }
  | { kind: 'fatal'; code: string; message: string }
  /** What the child's tasks did since its last `stats` (task-stats.ts), at most once a second. */
  | StatsMessage;

/**
 * The longest task key a child may name in `lost` or `ask`: what fits in a held-tasks slot
 * (a real key is the type and a message id, a few hundred bytes at most).
 */
export const MAX_KEY_CHARS = 1009;

const isString = (value: unknown): value is string => typeof value === 'string';
const isKey = (value: unknown): value is string => isString(value) && value.length <= MAX_KEY_CHARS;

/**
 * True when `value`, parsed from a child's channel, is a ChildMessage: a known `kind` with every
 * field of the type that kind has. A child runs plugin code, as another user: it is not trusted,
 * and what it sends is checked before anything acts on it. `maxKeys` bounds a `lost` message: a
 * child cannot hold more tasks than its held-tasks file has slots.
 */
export function isChildMessage(value: unknown, maxKeys: number): value is ChildMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  switch (m.kind) {
    case 'ready':
      return true;
    case 'lost':
      return (
        Array.isArray(m.keys) &&
        m.keys.length <= maxKeys &&
        m.keys.every(isKey) &&
        isString(m.cause)
      );
    case 'ask':
      return Number.isSafeInteger(m.id) && isKey(m.key);
    case 'recycle':
      return isString(m.reason);
    case 'fatal':
      return isString(m.code) && isString(m.message);
    case 'stats':
      return isStatsMessage(m);
    default:
      return false;
  }
}
