import { execFileSync } from 'node:child_process';
import type { IniDocument } from './parse.js';
import { formatProblem, type ProblemList } from './problems.js';
import { lookUp } from './read.js';
import { GROUP_KEYS } from './schema.js';
import type { TypePlan } from './sections.js';
import { INVALID } from './values.js';
import { SectionView } from './view.js';

/**
 * How `check-config` treats a `user` or `group` this host does not know: an error (the pool
 * would refuse the group), or a warning when the file is meant for another host.
 */
export type AccountCheck = 'error' | 'warning';

/** Whether an NSS database (so LDAP and sssd too) has `name`. */
export type AccountLookup = (database: 'passwd' | 'group', name: string) => boolean;

/** `getent DATABASE NAME`: exit 0 when the entry exists. */
export const getentLookup: AccountLookup = (database, name) => {
  try {
    execFileSync('getent', [database, name], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
};

const WHAT = {
  user: { database: 'passwd', noun: 'user' },
  group: { database: 'group', noun: 'group' },
} as const;

/**
 * Checks every `user` and `group` a group of the file sees (type, instance and [DEFAULT]
 * sections) against this host's accounts. Each value is checked once where it is written; a
 * malformed name is already a problem of its own and is not looked up.
 *
 * @returns the warnings, when `mode` is `warning`; with `error` the problems go to `problems`.
 */
export function checkAccounts(
  doc: IniDocument,
  plans: readonly TypePlan[],
  mode: AccountCheck,
  problems: ProblemList,
  lookup: AccountLookup = getentLookup,
): string[] {
  const views = [new SectionView(doc, [])];
  for (const { section, workers } of plans) {
    if ('count' in workers) views.push(new SectionView(doc, [section]));
    else for (const i of workers.instances) views.push(new SectionView(doc, [i.section, section]));
  }
  const warnings: string[] = [];
  const checked = new Set<string>();
  for (const view of views) {
    for (const key of ['user', 'group'] as const) {
      const found = lookUp(view, key, problems);
      if (found === undefined || GROUP_KEYS[key].parse(found.value) === INVALID) continue;
      const id = `${found.line}\0${key}`;
      if (checked.has(id)) continue;
      checked.add(id);
      const { database, noun } = WHAT[key];
      if (lookup(database, found.value)) continue;
      const problem = {
        file: doc.file,
        line: found.line,
        section: found.section,
        key,
        value: found.value,
        expected: `a ${noun} that exists on this host (getent ${database} ${found.value} finds none)`,
      };
      if (mode === 'error') problems.add(problem);
      else warnings.push(`${formatProblem(problem)}; checked for another host, so not an error`);
    }
  }
  return warnings;
}
