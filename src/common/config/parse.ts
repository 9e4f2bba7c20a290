import type { TqError } from '../errors.js';
import { configSyntaxError } from './problems.js';

/** The name of the section whose keys every other section sees (ConfigParser's `default_section`). */
export const DEFAULT_SECTION = 'DEFAULT';

/** One `key = value` as written; `raw` is not interpolated yet (ConfigParser interpolates on get). */
export interface IniEntry {
  /** Lowercased, as ConfigParser's `optionxform`. */
  readonly key: string;
  /** Continuation lines joined with "\n", trailing blank lines dropped. */
  readonly raw: string;
  /** 1-based line of the key. */
  readonly line: number;
}

/** One section and its keys in file order. */
export interface IniSection {
  /** Case-sensitive, as ConfigParser keeps it. */
  readonly name: string;
  /** 1-based line of the (first) header; 0 for a [DEFAULT] the file does not have. */
  readonly line: number;
  readonly entries: ReadonlyMap<string, IniEntry>;
}

/** A parsed file: what ConfigParser.read() would hold, plus where everything was written. */
export interface IniDocument {
  readonly file: string;
  readonly defaults: IniSection;
  /** Every section but [DEFAULT], in file order. */
  readonly sections: ReadonlyMap<string, IniSection>;
  /**
   * Every line ConfigParser would reject (`TQ_ERR_CONFIG_SYNTAX`), in file order. The rest of
   * the file is read past them, so that its values can still be checked and every mistake is
   * reported at once; a document with syntax errors is never used to run anything.
   */
  readonly syntaxErrors: readonly TqError[];
}

interface MutableSection {
  name: string;
  line: number;
  entries: Map<string, IniEntry>;
}

// The patterns of Python 3's configparser: the header regex is greedy (`[a]b]` names `a]b`, text
// after the last `]` is ignored) and the first `=` or `:` ends the key.
const SECTION_HEADER = /^\[(.+)\]/;
const OPTION = /^(.*?)\s*([=:])\s*(.*)$/;
const COMMENT_PREFIXES = ['#', ';'];

/**
 * Reads `text` the way Python 3's `configparser.ConfigParser()` with its defaults does (strict,
 * `=` and `:` delimiters, full-line `#`/`;` comments only, empty lines kept inside values), so
 * the original taskqueue's config.ini loads unchanged.
 *
 * @throws TqError `TQ_ERR_CONFIG_SYNTAX` at the first line ConfigParser would reject.
 */
export function parseIni(text: string, file: string): IniDocument {
  const doc = readIni(text, file);
  const [first] = doc.syntaxErrors;
  if (first !== undefined) throw first;
  return doc;
}

/**
 * `parseIni` that goes on past a line ConfigParser would reject and lists every such line in
 * `syntaxErrors`: a duplicate key keeps its first value, the keys of a duplicate section are read
 * but dropped, the lines before the first header and an unreadable line are skipped.
 */
export function readIni(text: string, file: string): IniDocument {
  const syntaxErrors: TqError[] = [];
  const defaults: MutableSection = { name: DEFAULT_SECTION, line: 0, entries: new Map() };
  const sections = new Map<string, MutableSection>();
  // Values are collected as line lists and joined at the end, as ConfigParser does.
  const pending = new Map<IniEntry, string[]>();
  let current: MutableSection | undefined;
  let currentKey: IniEntry | undefined;
  let indentLevel = 0;
  let headerMissing = false;

  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    const value = line.trim();
    // A comment may be indented and never ends a value nor adds a blank line to it.
    if (COMMENT_PREFIXES.some((prefix) => value.startsWith(prefix))) return;
    if (value === '') {
      if (currentKey !== undefined) pending.get(currentKey)?.push('');
      return;
    }
    const indent = line.search(/\S/);
    if (currentKey !== undefined && indent > indentLevel) {
      pending.get(currentKey)?.push(value);
      return;
    }
    indentLevel = indent;

    const header = SECTION_HEADER.exec(value);
    if (header) {
      current = openSection(header[1]!, lineNo, file, defaults, sections, syntaxErrors);
      // A section cannot start with a continuation line.
      currentKey = undefined;
      return;
    }
    const option = OPTION.exec(value);
    if (current === undefined) {
      // One mistake (the header is missing), reported at its first line; the lines up to the
      // first header belong to no section and are skipped.
      if (!headerMissing) {
        syntaxErrors.push(
          configSyntaxError(file, lineNo, 'a [section] header before the first key', {
            key: option?.[1] ? option[1].toLowerCase() : undefined,
            value: option?.[1] ? option[3] : undefined,
            found: value,
          }),
        );
      }
      headerMissing = true;
      return;
    }
    if (!option) {
      syntaxErrors.push(
        configSyntaxError(file, lineNo, '"key = value", "key: value", a [section] or a comment', {
          section: current.name,
          found: value,
          after: currentKey?.key,
        }),
      );
      // Its indented lines would be a value of no key: they are skipped with it.
      currentKey = undefined;
      return;
    }
    const key = option[1]!.toLowerCase();
    if (key === '') {
      syntaxErrors.push(
        configSyntaxError(file, lineNo, `a key name before "${option[2]}"`, {
          section: current.name,
          found: value,
          after: currentKey?.key,
        }),
      );
      currentKey = undefined;
      return;
    }
    const earlier = current.entries.get(key);
    if (earlier !== undefined) {
      syntaxErrors.push(
        configSyntaxError(
          file,
          lineNo,
          `each key once per section (already set at line ${earlier.line})`,
          { section: current.name, key, value: option[3] },
        ),
      );
      // The first value stands; the second one's continuation lines go nowhere.
      currentKey = { key, raw: '', line: lineNo };
      pending.set(currentKey, [option[3]!]);
      return;
    }
    const entry: IniEntry = { key, raw: '', line: lineNo };
    current.entries.set(key, entry);
    pending.set(entry, [option[3]!]);
    currentKey = entry;
  });

  return {
    file,
    defaults: joinValues(defaults, pending),
    sections: joinAll(sections, pending),
    syntaxErrors,
  };
}

function openSection(
  name: string,
  line: number,
  file: string,
  defaults: MutableSection,
  sections: Map<string, MutableSection>,
  syntaxErrors: TqError[],
): MutableSection {
  // ConfigParser lets [DEFAULT] reappear (it is not a section of its own); its keys stay unique.
  if (name === DEFAULT_SECTION) {
    if (defaults.line === 0) defaults.line = line;
    return defaults;
  }
  const earlier = sections.get(name);
  if (earlier !== undefined) {
    syntaxErrors.push(
      configSyntaxError(file, line, `each section once (already started at line ${earlier.line})`, {
        section: name,
      }),
    );
    // Its keys are read (so that their lines are checked) but belong to no section.
    return { name, line, entries: new Map() };
  }
  const section: MutableSection = { name, line, entries: new Map() };
  sections.set(name, section);
  return section;
}

function joinAll(
  sections: Map<string, MutableSection>,
  pending: Map<IniEntry, string[]>,
): Map<string, IniSection> {
  return new Map([...sections].map(([name, section]) => [name, joinValues(section, pending)]));
}

function joinValues(section: MutableSection, pending: Map<IniEntry, string[]>): IniSection {
  const entries = new Map<string, IniEntry>();
  for (const [key, entry] of section.entries) {
    // trimEnd drops the trailing blank lines that were kept in case the value went on.
    const raw = (pending.get(entry) ?? []).join('\n').trimEnd();
    entries.set(key, { ...entry, raw });
  }
  return { name: section.name, line: section.line, entries };
}
