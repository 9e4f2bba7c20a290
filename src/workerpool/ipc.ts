import type { AmqpConfig, GroupConfig } from '../common/config/types.js';

/** The Unix identity a child switches to before it loads any plugin code. */
export interface ChildIdentity {
  user: string;
  uid: number;
  gid: number;
  home: string;
}

/** Everything a child needs, sent by the pool over IPC (not env: it holds broker credentials). */
export interface ChildSpec {
  group: GroupConfig;
  amqp: AmqpConfig;
  pluginDir: string;
  identity: ChildIdentity | undefined;
  logLevel: string;
}

/** Pool → child. */
export type ParentMessage =
  | { kind: 'start'; spec: ChildSpec }
  /** Drain: finish running tasks for `graceMs` (shutdown_timeout), hand back the rest, exit. */
  | { kind: 'stop'; graceMs: number };

/**
 * Child → pool. `ready` comes only after the plugin is loaded, set up and consuming; `recycle`
 * asks for a successor (max_tasks_per_child is near, or max_memory_per_child passed).
 */
export type ChildMessage =
  | { kind: 'ready' }
  | { kind: 'recycle'; reason: string }
  | { kind: 'fatal'; code: string; message: string };
