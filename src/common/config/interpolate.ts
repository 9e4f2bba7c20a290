/** Python's MAX_INTERPOLATION_DEPTH: deeper means a key (indirectly) refers to itself. */
export const MAX_INTERPOLATION_DEPTH = 10;

/**
 * The longest value interpolation may produce, in characters. Nesting multiplies: ten levels of
 * ten references each turn a file of 1 KB into 10^10 characters, which would exhaust the heap
 * (V8 aborts, and no exit 78 is ever written). No real setting comes near this.
 */
export const MAX_INTERPOLATED_LENGTH = 64 * 1024;

/**
 * The most work one value's interpolation may do, in characters produced plus the text of the
 * references followed. Bounds what the length cap cannot: references to empty values produce
 * nothing, so 10^9 of them would take minutes while the result stays short.
 */
export const MAX_INTERPOLATION_WORK = 256 * 1024;

/**
 * The most interpolation work one file may cause over all its lookups: a [DEFAULT] value is
 * looked up once per section, so many sections times many values within the per-value cap
 * would still add up to minutes.
 */
export const MAX_DOCUMENT_INTERPOLATION_WORK = 16 * 1024 * 1024;

/** Work left for the lookups of one file; shared by every value interpolated from it. */
export interface InterpolationBudget {
  remaining: number;
}

const REFERENCE = /^%\(([^)]+)\)s/;

/** Why a value cannot be interpolated, as the phrase of what was expected instead. */
export class InterpolationFailure extends Error {
  constructor(readonly expected: string) {
    super(`expected ${expected}`);
    this.name = 'InterpolationFailure';
  }
}

/**
 * The value's `%` syntax is fine but its expansion is too large (a value problem, not a syntax
 * one: the same file with smaller values would load).
 */
export class InterpolationTooLarge extends InterpolationFailure {
  constructor(expected: string) {
    super(expected);
    this.name = 'InterpolationTooLarge';
  }
}

/** The state of one value's interpolation: what it produced, and what it has cost so far. */
interface Expansion {
  readonly out: string[];
  length: number;
  work: number;
  readonly lookup: (name: string) => string | undefined;
  readonly scope: string;
  readonly budget: InterpolationBudget | undefined;
}

/**
 * ConfigParser's BasicInterpolation: `%(name)s` is replaced by the raw value of `name` (looked
 * up case-insensitively, and interpolated in turn), `%%` by `%`; any other `%` stays literal.
 * Unlike Python, the result is capped at MAX_INTERPOLATED_LENGTH characters and the work at
 * MAX_INTERPOLATION_WORK, so that a small hostile file cannot exhaust memory or time.
 *
 * @param lookup the raw value of a key visible where the value is looked up, or undefined.
 * @param scope how to name where `lookup` looks, for messages: "[worker1] or [DEFAULT]".
 * @param budget the file's work left (MAX_DOCUMENT_INTERPOLATION_WORK), charged and checked too.
 * @throws InterpolationFailure, or InterpolationTooLarge past a cap.
 */
export function interpolate(
  raw: string,
  lookup: (name: string) => string | undefined,
  scope: string,
  budget?: InterpolationBudget,
): string {
  // Most values have no `%`: the same string back, at the cost of one scan.
  if (!raw.includes('%')) {
    if (raw.length > MAX_INTERPOLATED_LENGTH) throw tooLong();
    return raw;
  }
  const expansion: Expansion = { out: [], length: 0, work: 0, lookup, scope, budget };
  try {
    interpolateInto(expansion, raw, 1);
  } finally {
    if (budget !== undefined) budget.remaining -= expansion.work;
  }
  return expansion.out.join('');
}

function tooLong(): InterpolationTooLarge {
  return new InterpolationTooLarge(
    `a value of at most ${MAX_INTERPOLATED_LENGTH} characters once %(name)s references are expanded`,
  );
}

function emit(expansion: Expansion, text: string): void {
  expansion.length += text.length;
  if (expansion.length > MAX_INTERPOLATED_LENGTH) throw tooLong();
  charge(expansion, text.length);
  expansion.out.push(text);
}

function charge(expansion: Expansion, cost: number): void {
  expansion.work += cost;
  if (expansion.work > MAX_INTERPOLATION_WORK) {
    throw new InterpolationTooLarge(
      `%(name)s references that expand with at most ${MAX_INTERPOLATION_WORK} steps of work`,
    );
  }
  const { budget } = expansion;
  if (budget !== undefined && expansion.work > budget.remaining) {
    throw new InterpolationTooLarge(
      `%(name)s references that expand with at most ${MAX_DOCUMENT_INTERPOLATION_WORK} steps of work over the whole file`,
    );
  }
}

function interpolateInto(expansion: Expansion, value: string, depth: number): void {
  if (depth > MAX_INTERPOLATION_DEPTH) {
    throw new InterpolationFailure(
      `%(name)s references nested at most ${MAX_INTERPOLATION_DEPTH} deep (does a key refer to itself?)`,
    );
  }
  let rest = value;
  while (rest !== '') {
    const percent = rest.indexOf('%');
    if (percent < 0) {
      emit(expansion, rest);
      return;
    }
    emit(expansion, rest.slice(0, percent));
    rest = rest.slice(percent);
    const next = rest.charAt(1);
    if (next === '%') {
      charge(expansion, 1);
      emit(expansion, '%');
      rest = rest.slice(2);
    } else if (next === '(') {
      const match = REFERENCE.exec(rest);
      if (!match) {
        throw new InterpolationFailure(`"%(name)s" to be closed by ")s"`);
      }
      // A reference costs its own text even when the value it names is empty.
      charge(expansion, match[0].length);
      const name = match[1]!.toLowerCase();
      rest = rest.slice(match[0].length);
      const referenced = expansion.lookup(name);
      if (referenced === undefined) {
        throw new InterpolationFailure(`"%(${name})s" to name a key of ${expansion.scope}`);
      }
      // As Python, only a value with a `%` counts as a level of nesting.
      if (referenced.includes('%')) interpolateInto(expansion, referenced, depth + 1);
      else emit(expansion, referenced);
    } else {
      // Kinder than ConfigParser, which refuses it: a `%` before anything but `(` or `%` is
      // literal, so a URL pasted with `%2F` works as in TASKQUEUE_AMQP_URL. `%%` still means `%`.
      emit(expansion, '%');
      rest = rest.slice(1);
    }
  }
}
