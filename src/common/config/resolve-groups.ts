import type { IniDocument, IniSection } from './parse.js';
import type { ProblemList } from './problems.js';
import { lookUp, readKey, tableReader } from './read.js';
import { GROUP_KEYS, INSTANCE_WORKERS, isReservedGroupKey, TYPE_LEVEL_KEYS } from './schema.js';
import type { TypePlan } from './sections.js';
import type { GroupConfig } from './types.js';
import { SectionView } from './view.js';

/** Which group a view describes. */
interface GroupIdentity {
  name: string;
  type: string;
  instance: string | undefined;
}

/** The groups of every configured type: the type section itself, or one per instance. */
export function resolveGroups(
  doc: IniDocument,
  plans: readonly TypePlan[],
  problems: ProblemList,
): Map<string, GroupConfig[]> {
  const groups = new Map<string, GroupConfig[]>();
  for (const { type, section, workers } of plans) {
    if ('count' in workers) {
      const view = new SectionView(doc, [section]);
      const identity = { name: type, type, instance: undefined };
      groups.set(type, [readGroup(view, identity, workers.count, problems, doc.file)]);
      continue;
    }
    const instances = workers.instances.map(({ name, section: instanceSection }) => {
      refuseTypeLevelKeys(doc, instanceSection, type, problems);
      const view = new SectionView(doc, [instanceSection, section]);
      // The type section's `workers` is the list of instances, never a count for one of them,
      // so an instance's count comes from its own section or [DEFAULT] only.
      const countView = new SectionView(doc, [instanceSection]);
      const count = readKey(countView, 'workers', INSTANCE_WORKERS, problems);
      const identity = { name: instanceSection.name, type, instance: name };
      return readGroup(view, identity, count, problems, doc.file);
    });
    groups.set(type, instances);
  }
  return groups;
}

/**
 * The group of a type that has no section: [DEFAULT] alone (SPEC §2: every installed plugin
 * runs). Resolved once, with an empty name and type that `groupsFor` fills in.
 */
export function resolveDefaultGroup(doc: IniDocument, problems: ProblemList): GroupConfig {
  const view = new SectionView(doc, []);
  const count = readKey(view, 'workers', INSTANCE_WORKERS, problems);
  return readGroup(view, { name: '', type: '', instance: undefined }, count, problems, doc.file);
}

function readGroup(
  view: SectionView,
  identity: GroupIdentity,
  workers: number,
  problems: ProblemList,
  file: string,
): GroupConfig {
  const read = tableReader(view, GROUP_KEYS, problems);
  const group: GroupConfig = {
    ...identity,
    workers,
    user: read('user'),
    group: read('group'),
    resultsExchange: read('results_exchange'),
    resultsRoutingKey: read('results_routing_key'),
    prefetch: read('prefetch'),
    concurrency: read('concurrency'),
    maxAttempts: read('max_attempts'),
    retryDelay: read('retry_delay'),
    maxCrashes: read('max_crashes'),
    timeout: read('timeout'),
    maxTasksPerChild: read('max_tasks_per_child'),
    maxMemoryPerChild: read('max_memory_per_child'),
    maxBodySize: read('max_body_size'),
    semiSpaceSize: read('semi_space_size'),
    maxPriority: read('max_priority'),
    rateLimit: read('rate_limit'),
    settings: settingsOf(view, problems),
  };
  refuseConcurrencyAbovePrefetch(view, group, file, problems);
  return group;
}

/** A child runs only tasks it holds: `concurrency` above `prefetch` could never be reached. */
function refuseConcurrencyAbovePrefetch(
  view: SectionView,
  group: GroupConfig,
  file: string,
  problems: ProblemList,
): void {
  if (group.concurrency === undefined || group.concurrency <= group.prefetch) return;
  const found = view.find('concurrency');
  problems.add({
    file,
    line: found?.entry.line ?? 0,
    section: found?.section,
    key: 'concurrency',
    value: found?.entry.raw ?? String(group.concurrency),
    expected: `at most the group's prefetch (${group.prefetch}): a child runs only the tasks it holds`,
  });
}

/** A type-level key written in an instance section is a problem where it is written. */
function refuseTypeLevelKeys(
  doc: IniDocument,
  instanceSection: IniSection | undefined,
  type: string,
  problems: ProblemList,
): void {
  if (instanceSection === undefined) return;
  const own = new SectionView(doc, [instanceSection], 'references-only');
  for (const key of TYPE_LEVEL_KEYS) {
    const found = own.find(key);
    if (found === undefined || found.section !== instanceSection.name) continue;
    problems.add({
      file: doc.file,
      line: found.entry.line,
      section: instanceSection.name,
      key,
      value: found.entry.raw,
      expected: `no ${key} here: it is the type's, written in [${type}] (one queue serves every instance)`,
    });
  }
}

/** Every key the group sees that is not reserved, interpolated: the plugin's settings. */
function settingsOf(view: SectionView, problems: ProblemList): Record<string, string> {
  const entries: Array<[string, string]> = [];
  for (const key of view.keys()) {
    if (isReservedGroupKey(key)) continue;
    // A value that cannot be interpolated is recorded and left out.
    const found = lookUp(view, key, problems);
    if (found !== undefined) entries.push([key, found.value]);
  }
  // fromEntries defines own properties, so even a key named `__proto__` stays a plain setting.
  return Object.fromEntries(entries);
}
