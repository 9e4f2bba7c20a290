import {
  type InterpolationBudget,
  InterpolationFailure,
  InterpolationTooLarge,
  interpolate,
  MAX_DOCUMENT_INTERPOLATION_WORK,
} from './interpolate.js';
import type { IniDocument, IniEntry, IniSection } from './parse.js';
import { configSyntaxError, ProblemList } from './problems.js';

// One budget per parsed file, shared by every view of it: a reload parses anew, so gets its own.
const budgets = new WeakMap<IniDocument, InterpolationBudget>();

function budgetOf(doc: IniDocument): InterpolationBudget {
  let budget = budgets.get(doc);
  if (budget === undefined) {
    budget = { remaining: MAX_DOCUMENT_INTERPOLATION_WORK };
    budgets.set(doc, budget);
  }
  return budget;
}

/** Whether a view sees [DEFAULT]'s keys as its own, or only in `%(name)s` references. */
export type DefaultsUse = 'inherit' | 'references-only';

/** A value found by a lookup, with where it is written (for messages). */
export interface FoundValue {
  key: string;
  /** Interpolated. */
  value: string;
  raw: string;
  line: number;
  /** The section the key is written in, which may be a fallback such as [DEFAULT]. */
  section: string;
}

/**
 * The keys one section sees: its own, then its fallbacks' (a type section for an instance), then
 * [DEFAULT]'s. With one section plus [DEFAULT] this is exactly ConfigParser's `get`; the chain
 * extends it to SPEC §2's lookup order "instance section, type section, [DEFAULT]".
 */
export class SectionView {
  private readonly chain: readonly IniSection[];
  /** Where `%(name)s` looks: the chain, plus [DEFAULT] when the chain does not inherit it. */
  private readonly referenceChain: readonly IniSection[];

  /**
   * @param sections most specific first; sections the file lacks are skipped. [DEFAULT] is
   *   appended, unless `defaults` is `references-only` (the fixed sections: [DEFAULT] holds the
   *   groups' keys, such as `user`, which must not become the broker login), in which case
   *   [DEFAULT]'s keys are still seen by `%(name)s`, as ConfigParser sees them.
   */
  constructor(
    readonly doc: IniDocument,
    sections: readonly (IniSection | undefined)[],
    defaults: DefaultsUse = 'inherit',
  ) {
    const present = sections.filter((s): s is IniSection => s !== undefined);
    this.referenceChain = [...present, doc.defaults];
    this.chain = defaults === 'inherit' ? this.referenceChain : present;
  }

  /** The raw entry `key` resolves to, and the section it is written in. */
  find(key: string): { entry: IniEntry; section: string } | undefined {
    return findIn(this.chain, key);
  }

  /**
   * The interpolated value of `key` (lowercase), or undefined when no section of the view has it.
   * Interpolation happens here, at lookup, as in ConfigParser, so sections that are never looked
   * up (the logging ones, whose formats are full of `%(asctime)s`) are never interpolated.
   *
   * @param show how to print the value in the error (masks passwords).
   * @throws TqError `TQ_ERR_CONFIG_SYNTAX` when the value's `%` syntax is wrong.
   */
  get(key: string, show: (raw: string) => string = (raw) => raw): FoundValue | undefined {
    const found = this.find(key);
    if (found === undefined) return undefined;
    const { entry, section } = found;
    try {
      const value = interpolate(
        entry.raw,
        (name) => findIn(this.referenceChain, name)?.entry.raw,
        this.scope(),
        budgetOf(this.doc),
      );
      return { key, value, raw: entry.raw, line: entry.line, section };
    } catch (err) {
      if (!(err instanceof InterpolationFailure)) throw err;
      if (err instanceof InterpolationTooLarge) {
        // The file's syntax is fine; its values are too large: TQ_ERR_CONFIG_VALUE (exit 78).
        const problems = new ProblemList();
        problems.add({
          file: this.doc.file,
          line: entry.line,
          section,
          key,
          value: undefined,
          expected: err.expected,
        });
        problems.throwIfAny(this.doc.file);
      }
      throw configSyntaxError(this.doc.file, entry.line, err.expected, {
        section,
        key,
        value: show(entry.raw),
      });
    }
  }

  /** Every key the view sees, most specific section first, each once. */
  keys(): string[] {
    const keys = new Set<string>();
    for (const section of this.chain) for (const key of section.entries.keys()) keys.add(key);
    return [...keys];
  }

  private scope(): string {
    const names = this.referenceChain.map((s) => `[${s.name}]`);
    return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
  }
}

function findIn(
  chain: readonly IniSection[],
  key: string,
): { entry: IniEntry; section: string } | undefined {
  for (const section of chain) {
    const entry = section.entries.get(key);
    if (entry !== undefined) return { entry, section: section.name };
  }
  return undefined;
}
