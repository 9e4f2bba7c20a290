import type { IniDocument } from './parse.js';
import type { FixedSection } from './schema.js';
import { isReservedGroupKey, SCHEMA } from './schema.js';

/**
 * [amqp], [dispatcher] and [workerpool] do not inherit [DEFAULT] (ConfigParser's sections do):
 * [DEFAULT] holds the groups' keys, and its `user` — a Unix user for the children — became the
 * broker login, its other keys leaking into the broker settings. The lines below say where a
 * file relied on the old behaviour, one warning per [DEFAULT] key a fixed section would have
 * taken and no longer does.
 *
 * A [DEFAULT] key the groups also read (`prefetch`) is meant for them, and a warning would be
 * noise, except `user`: it is the broker login the old reading got wrong, so always named.
 */
export function defaultsNotInherited(doc: IniDocument): string[] {
  const warnings: string[] = [];
  for (const section of Object.keys(SCHEMA).filter((s) => s !== 'group') as FixedSection[]) {
    const written = doc.sections.get(section)?.entries;
    for (const key of Object.keys(SCHEMA[section])) {
      const inDefault = doc.defaults.entries.get(key);
      if (inDefault === undefined || written?.has(key)) continue;
      const meantForGroups = isReservedGroupKey(key) && !(section === 'amqp' && key === 'user');
      if (meantForGroups) continue;
      warnings.push(
        `${doc.file}:${inDefault.line}: [DEFAULT] ${key} is not used by [${section}] (fixed ` +
          `sections do not inherit [DEFAULT]); ${whatApplies(section, key)}`,
      );
    }
  }
  return warnings;
}

function whatApplies(section: FixedSection, key: string): string {
  const spec = (SCHEMA[section] as Record<string, { default: unknown }>)[key]!;
  const fallback = spec.default === undefined ? 'unset' : JSON.stringify(spec.default);
  const subject = section === 'amqp' && key === 'user' ? 'the broker login' : `${key}`;
  return `${subject} is ${fallback} unless [${section}] sets ${key}`;
}
