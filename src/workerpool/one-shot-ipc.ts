import type { Workitem } from '@taskqueue/plugin-api';
import type { GroupConfig } from '../common/config/types.js';
import type { AcceptedApi } from './discovery/api-check.js';
import type { ChildIdentity } from './ipc.js';

/**
 * The messages between a command (`taskqueue run-task`, `taskqueue plugins`) and a one-shot
 * child: a child started as a pool child is (child-command.ts), that loads one plugin and,
 * for run-task, runs one workitem through it; no broker. Over the same kind of channel as the
 * pool's (channel.ts), so that what the plugin prints on stdout cannot pass for a message.
 */

/**
 * The longest line either side reads: a workitem and its results travel whole, and the broker
 * takes messages up to 128 MiB by default (max_message_size).
 */
export const ONE_SHOT_MAX_LINE_BYTES = 256 * 1024 * 1024;

/** What the child loads, and as whom it must already run. */
export interface OneShotPlugin {
  group: GroupConfig;
  pluginDir: string;
  acceptedApi: AcceptedApi;
  identity: ChildIdentity | undefined;
  logLevel: string;
}

/** Command → child. */
export type OneShotRequest =
  /** Load the plugin (and check its API range), then say `loaded`; never `setup`. */
  | { kind: 'load'; plugin: OneShotPlugin }
  /** Load, set up, run `workitem` (attempts as the group allows), report, tear down. */
  | { kind: 'run'; plugin: OneShotPlugin; workitem: Workitem; taskId: string };

/** How the task ended: `result` when the plugin returned, `error` when the error result went out. */
export type OneShotStatus = 'result' | 'error';

/** Child → command. */
export type OneShotReply =
  /** The plugin is loaded: the last word of `load`; `run` sets it up next. */
  | { kind: 'loaded' }
  /** Set up; `attempt` starts now (the command arms its watchdog for it). */
  | { kind: 'attempt'; attempt: number }
  /** What the plugin's reportResults published, in order; the child tears down next. */
  | { kind: 'results'; status: OneShotStatus; published: Workitem[]; failure?: string }
  /** Identity, load or setup failed: nothing ran. */
  | { kind: 'fatal'; code: string; message: string };

const isString = (value: unknown): value is string => typeof value === 'string';
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** True when `value`, read from a child's channel, is a OneShotReply (the child runs plugin code). */
export function isOneShotReply(value: unknown): value is OneShotReply {
  if (!isObject(value)) return false;
  switch (value.kind) {
    case 'loaded':
      return true;
    case 'attempt':
      return Number.isSafeInteger(value.attempt);
    case 'results':
      return (
        (value.status === 'result' || value.status === 'error') &&
        Array.isArray(value.published) &&
        value.published.every(isObject) &&
        (value.failure === undefined || isString(value.failure))
      );
    case 'fatal':
      return isString(value.code) && isString(value.message);
    default:
      return false;
  }
}
