import { WORKER_TYPE_RULE, workerTypeProblem } from '../worker-type.js';
import type { IniDocument, IniSection } from './parse.js';
import type { ProblemList } from './problems.js';
import { readKey } from './read.js';
import { GROUP_KEYS, type WorkersValue } from './schema.js';
import { SectionView } from './view.js';

/** Sections with keys of their own (SPEC §2); never worker types. */
export const FIXED_SECTIONS: readonly string[] = [
  'amqp',
  'dispatcher',
  'workerpool',
  'api',
  'tracking',
];

const LOGGING_SECTIONS = ['formatters', 'handlers', 'loggers'];
const LOGGING_PREFIXES = ['formatter_', 'handler_', 'logger_'];

/**
 * The original's logging.config sections: tolerated so its file loads unchanged, and ignored
 * (never interpolated either: their formats are full of `%(asctime)s`).
 */
export function isLoggingSection(name: string): boolean {
  return LOGGING_SECTIONS.includes(name) || LOGGING_PREFIXES.some((p) => name.startsWith(p));
}

/** An instance of a type: `<type>_<name>`, listed in the type section's `workers`. */
export interface InstancePlan {
  name: string;
  section: IniSection;
}

/** A worker type with a section of its own, and where its children are configured. */
export interface TypePlan {
  type: string;
  section: IniSection;
  /** The type section's children, or its instances (those whose section exists). */
  workers: { count: number } | { instances: InstancePlan[] };
}

/**
 * Sorts the sections that are not fixed or logging into types and instances, in file order.
 * `<type>_<name>` is an instance only when type section `<type>` lists `<name>` in `workers`;
 * otherwise it is a type of its own. Records a bad type name and a listed instance without a
 * section in `problems`.
 */
export function planTypes(doc: IniDocument, problems: ProblemList): TypePlan[] {
  const candidates = [...doc.sections.values()].filter(
    (s) => !FIXED_SECTIONS.includes(s.name) && !isLoggingSection(s.name),
  );
  // An instance's name is longer than its type's, so taking shorter names first settles every
  // type before the sections it could claim; sort() is stable, so ties keep file order.
  const byLength = [...candidates].sort((a, b) => a.name.length - b.name.length);
  const claimed = new Set<string>();
  const workersOf = new Map<IniSection, WorkersValue>();
  for (const section of byLength) {
    if (claimed.has(section.name)) continue;
    const workers = readKey(
      new SectionView(doc, [section]),
      'workers',
      GROUP_KEYS.workers,
      problems,
    );
    workersOf.set(section, workers);
    if ('instances' in workers) {
      for (const name of workers.instances) claimed.add(`${section.name}_${name}`);
    }
  }

  const plans: TypePlan[] = [];
  for (const section of candidates) {
    const workers = workersOf.get(section);
    if (workers === undefined) continue;
    if (workerTypeProblem(section.name) !== undefined) {
      problems.add({
        file: doc.file,
        line: section.line,
        section: section.name,
        key: undefined,
        value: undefined,
        expected: `a worker type name matching ${WORKER_TYPE_RULE}`,
      });
    }
    plans.push({
      type: section.name,
      section,
      workers: planWorkers(doc, section, workers, problems),
    });
  }
  return plans;
}

function planWorkers(
  doc: IniDocument,
  section: IniSection,
  workers: WorkersValue,
  problems: ProblemList,
): TypePlan['workers'] {
  if ('count' in workers) return workers;
  const instances: InstancePlan[] = [];
  const missing: string[] = [];
  for (const name of workers.instances) {
    const instance = doc.sections.get(`${section.name}_${name}`);
    if (instance === undefined) missing.push(name);
    else instances.push({ name, section: instance });
  }
  if (missing.length > 0) {
    // Reported at the `workers` line that lists them, which may be [DEFAULT]'s.
    const found = new SectionView(doc, [section]).get('workers')!;
    const sections = missing.map((name) => `[${section.name}_${name}]`).join(', ');
    const names = missing.join(', ');
    problems.add({
      file: doc.file,
      line: found.line,
      section: found.section,
      key: 'workers',
      value: found.value,
      expected:
        missing.length === 1
          ? `a section ${sections} for instance ${names}`
          : `sections ${sections} for instances ${names}`,
    });
  }
  return { instances };
}
