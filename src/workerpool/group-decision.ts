import { join } from 'node:path';
import type { GroupConfig } from '../common/config/types.js';
import type { ErrorCode } from '../common/errors.js';
import type { PluginPackage } from './discovery/package-info.js';
import { missingSettings } from './discovery/settings-check.js';
import { decideIdentity } from './identity.js';
import type { ChildIdentity } from './ipc.js';
import { readerFor, unreadableReason } from './readable.js';

/** Whether a group of an accepted plugin may run its children here, and as whom. */
export type GroupDecision =
  | { ok: true; identity: ChildIdentity | undefined; note?: string }
  | {
      ok: false;
      code: Extract<ErrorCode, 'TQ_ERR_GROUP_REFUSED' | 'TQ_ERR_GROUP_UNREADABLE'>;
      reason: string;
      /** The settings the group lacks, when that is the reason. */
      missing?: string[];
      /** The user and the path it cannot read, when that is the reason. */
      unreadable?: { user: string; path: string };
    };

/**
 * The checks the pool makes of a group before it forks anything, in its order: the settings
 * its plugin requires, the user it runs as, and whether that user can read `entry` (the child's
 * entry point) and the plugin. The pool, `taskqueue run-task` and `taskqueue plugins` all decide
 * here, so that they agree. `hasSection`: whether the config has a section for the type.
 */
export function decideGroup(
  plugin: PluginPackage,
  group: GroupConfig,
  hasSection: boolean,
  entry: string,
): GroupDecision {
  const missing = missingSettings(plugin, group, hasSection);
  if (missing) {
    return {
      ok: false,
      code: 'TQ_ERR_GROUP_REFUSED',
      reason: missing.reason,
      missing: missing.settings.map((s) => s.name),
    };
  }
  const identity = decideIdentity(group);
  if (!identity.ok) return { ok: false, code: 'TQ_ERR_GROUP_REFUSED', reason: identity.reason };
  // Checked before any fork: a child that cannot load its code dies at once, again and again,
  // and says only "Cannot find module".
  const blocked = identity.identity && unreadableCode(plugin, identity.identity, entry);
  if (blocked) {
    return {
      ok: false,
      code: 'TQ_ERR_GROUP_UNREADABLE',
      reason: `user ${identity.identity!.user} cannot read ${blocked.path}: ${blocked.reason}`,
      unreadable: { user: identity.identity!.user, path: blocked.path },
    };
  }
  return identity;
}

/**
 * The first of the child's entry point, the plugin's directory, its package.json and its entry
 * module that the group's user cannot read, and why; undefined when it can read them all.
 */
function unreadableCode(
  plugin: { dir: string; entry: string },
  identity: { user: string; uid: number; gid: number },
  entry: string,
): { path: string; reason: string } | undefined {
  if (identity.uid === 0) return undefined;
  const reader = readerFor(identity);
  const wanted: Array<[string, 'file' | 'dir']> = [
    [entry, 'file'],
    [plugin.dir, 'dir'],
    [join(plugin.dir, 'package.json'), 'file'],
    [plugin.entry, 'file'],
  ];
  for (const [path, kind] of wanted) {
    const reason = unreadableReason(path, kind, reader);
    if (reason) return { path, reason };
  }
  return undefined;
}
