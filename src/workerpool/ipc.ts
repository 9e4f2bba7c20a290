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
export type ParentMessage = { kind: 'start'; spec: ChildSpec } | { kind: 'stop' };

/** Child → pool. `ready` comes only after the plugin is loaded, set up and consuming. */
export type ChildMessage =
  | { kind: 'ready' }
  | { kind: 'task-done'; tasks: number; rssMiB: number }
  | { kind: 'fatal'; code: string; message: string };
