import { hasCode, type TqError } from '../errors.js';
import type { ProblemList } from './problems.js';
import type { KeySpec } from './schema.js';
import { INVALID } from './values.js';
import type { FoundValue, SectionView } from './view.js';

/**
 * The typed value of `key` as `view` sees it, or the key's default when no section has it.
 * A malformed value is recorded in `problems` where it is written (so a bad [DEFAULT] value is
 * one problem however many sections inherit it) and the default stands in, so that checking
 * goes on and every problem of the file is reported at once.
 *
 * A value that cannot be interpolated is recorded as a syntax error, and the default stands in.
 */
export function readKey<T>(
  view: SectionView,
  key: string,
  spec: KeySpec<T>,
  problems: ProblemList,
): T {
  const found = lookUp(view, key, problems, spec.show);
  if (found === undefined) return spec.default;
  const parsed = spec.parse(found.value);
  if (parsed !== INVALID) return parsed;
  problems.add({
    file: view.doc.file,
    line: found.line,
    section: found.section,
    key,
    value: spec.show ? spec.show(found.value) : found.value,
    expected: spec.expected,
  });
  return spec.default;
}

/**
 * `view.get(key)`, with a `%` syntax error recorded in `problems` (the key then counts as
 * absent) rather than thrown, so that the rest of the file is still checked.
 */
export function lookUp(
  view: SectionView,
  key: string,
  problems: ProblemList,
  show?: (raw: string) => string,
): FoundValue | undefined {
  try {
    return view.get(key, show);
  } catch (err) {
    if (!hasCode(err, 'TQ_ERR_CONFIG_SYNTAX')) throw err;
    problems.addSyntax(err as TqError);
    return undefined;
  }
}

/** Records every key written in `section` itself that `known` does not have. */
export function checkKnownKeys(
  view: SectionView,
  sectionName: string,
  known: Record<string, unknown>,
  problems: ProblemList,
): void {
  const section = view.doc.sections.get(sectionName);
  if (section === undefined) return;
  const names = Object.keys(known);
  for (const entry of section.entries.values()) {
    if (Object.hasOwn(known, entry.key)) continue;
    problems.add({
      file: view.doc.file,
      line: entry.line,
      section: sectionName,
      key: entry.key,
      value: entry.raw,
      expected: `one of the [${sectionName}] keys ${names.join(', ')}`,
    });
  }
}

/** The value type a KeySpec parses to. */
export type SpecValue<S> = S extends KeySpec<infer T> ? T : never;

/**
 * `readKey` bound to one view and one table, so that a key is named once and its value type
 * follows from the table: `read('port')` is `number | undefined`.
 */
export function tableReader<S extends Record<string, KeySpec<unknown>>>(
  view: SectionView,
  table: S,
  problems: ProblemList,
): <K extends keyof S & string>(key: K) => SpecValue<S[K]> {
  return (key) => readKey(view, key, table[key] as KeySpec<SpecValue<S[typeof key]>>, problems);
}
