import { type AccountCheck, checkAccounts } from './accounts.js';
import { defaultsNotInherited } from './fixed-defaults.js';
import type { IniDocument } from './parse.js';
import { ProblemList } from './problems.js';
import { resolveAmqp } from './resolve-amqp.js';
import { resolveApi } from './resolve-api.js';
import { resolveDispatcher, resolveTracking, resolveWorkerpool } from './resolve-daemons.js';
import { resolveDefaultGroup, resolveGroups } from './resolve-groups.js';
import { planTypes } from './sections.js';
import type { Config, GroupConfig } from './types.js';

/** What a further check of a resolved config (check-config's) reports. */
export interface CheckReport {
  /**
   * A problem with `key` of `section` (a group's section, or a type that has none), reported
   * at the key's line when the section writes it, else at the section's header.
   */
  problem(p: { section: string; key: string; expected: string }): void;
  /** A line that does not fail the check. */
  warning(text: string): void;
}

/** Checks beyond the file itself, for `check-config`; the daemons check none of them here. */
export interface ResolveOptions {
  /** Look up each `user` and `group` on this host: unknown ones are problems, or warnings. */
  accounts?: AccountCheck;
  /**
   * Runs on the config before the problems are thrown (it may hold defaults in place of bad
   * values), so that what it finds is reported with the file's own problems, all at once.
   */
  check?: (config: Config, report: CheckReport) => void;
  /**
   * Gets `config.warnings` once every check ran, also when the file is then refused, so that a
   * warning is not lost behind the errors.
   */
  onWarnings?: (warnings: readonly string[]) => void;
}

/**
 * Validates a parsed file against SPEC §2 and builds the typed Config. `env` supplies
 * `TASKQUEUE_AMQP_URL`.
 *
 * @throws TqError `TQ_ERR_CONFIG_VALUE` listing every malformed value or unknown key, or
 *   `TQ_ERR_CONFIG_SYNTAX` when a line of the file or a value's `%` interpolation is wrong (with
 *   every other problem of the file in the same message).
 */
export function resolveConfig(
  doc: IniDocument,
  env: NodeJS.ProcessEnv,
  options: ResolveOptions = {},
): Config {
  const problems = new ProblemList();
  // The lines the parser could not read are reported with the value problems of the rest.
  for (const err of doc.syntaxErrors) problems.addSyntax(err);
  const amqp = resolveAmqp(doc, env, problems);
  const dispatcher = resolveDispatcher(doc, problems);
  const workerpool = resolveWorkerpool(doc, problems);
  const api = resolveApi(doc, problems);
  const tracking = resolveTracking(doc, problems);
  const plans = planTypes(doc, problems);
  const groups = resolveGroups(doc, plans, problems);
  // Resolved even when every plugin has a section, so that a bad [DEFAULT] fails at start
  // rather than when a new plugin is installed.
  const defaultGroup = resolveDefaultGroup(doc, problems);
  const warnings = defaultsNotInherited(doc);
  if (options.accounts !== undefined) {
    warnings.push(...checkAccounts(doc, plans, options.accounts, problems));
  }

  const config: Config = {
    file: doc.file,
    warnings,
    amqp,
    dispatcher,
    workerpool,
    api,
    tracking,
    configuredTypes: plans.map((plan) => plan.type),
    groupsFor(type: string): GroupConfig[] {
      const configured = groups.get(type);
      if (configured !== undefined) return configured.map(copyGroup);
      return [{ ...copyGroup(defaultGroup), name: type, type }];
    },
  };
  options.check?.(config, {
    problem: ({ section, key, expected }) => {
      const written = doc.sections.get(section);
      const line = written?.entries.get(key)?.line ?? written?.line ?? 0;
      problems.add({ file: doc.file, line, section, key, value: undefined, expected });
    },
    warning: (text) => warnings.push(text),
  });
  options.onWarnings?.(warnings);
  problems.throwIfAny(doc.file);
  return config;
}

// Callers get their own copies, so that one of them changing a group cannot change another's.
function copyGroup(group: GroupConfig): GroupConfig {
  return { ...group, settings: { ...group.settings } };
}
