import { defaultsNotInherited } from './fixed-defaults.js';
import type { IniDocument } from './parse.js';
import { ProblemList } from './problems.js';
import { resolveAmqp } from './resolve-amqp.js';
import { resolveDispatcher, resolveWorkerpool } from './resolve-daemons.js';
import { resolveDefaultGroup, resolveGroups } from './resolve-groups.js';
import { planTypes } from './sections.js';
import type { Config, GroupConfig } from './types.js';

/**
 * Validates a parsed file against SPEC §2 and builds the typed Config. `env` supplies
 * `TASKQUEUE_AMQP_URL`.
 *
 * @throws TqError `TQ_ERR_CONFIG_VALUE` listing every malformed value or unknown key, or
 *   `TQ_ERR_CONFIG_SYNTAX` for a value whose `%` interpolation is wrong.
 */
export function resolveConfig(doc: IniDocument, env: NodeJS.ProcessEnv): Config {
  const problems = new ProblemList();
  const amqp = resolveAmqp(doc, env, problems);
  const dispatcher = resolveDispatcher(doc, problems);
  const workerpool = resolveWorkerpool(doc, problems);
  const plans = planTypes(doc, problems);
  const groups = resolveGroups(doc, plans, problems);
  // Resolved even when every plugin has a section, so that a bad [DEFAULT] fails at start
  // rather than when a new plugin is installed.
  const defaultGroup = resolveDefaultGroup(doc, problems);
  problems.throwIfAny(doc.file);

  return {
    file: doc.file,
    warnings: defaultsNotInherited(doc),
    amqp,
    dispatcher,
    workerpool,
    configuredTypes: plans.map((plan) => plan.type),
    groupsFor(type: string): GroupConfig[] {
      const configured = groups.get(type);
      if (configured !== undefined) return configured.map(copyGroup);
      return [{ ...copyGroup(defaultGroup), name: type, type }];
    },
  };
}

// Callers get their own copies, so that one of them changing a group cannot change another's.
function copyGroup(group: GroupConfig): GroupConfig {
  return { ...group, settings: { ...group.settings } };
}
