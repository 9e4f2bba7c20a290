/** Python's MAX_INTERPOLATION_DEPTH: deeper means a key (indirectly) refers to itself. */
export const MAX_INTERPOLATION_DEPTH = 10;

const REFERENCE = /^%\(([^)]+)\)s/;

/** Why a value cannot be interpolated, as the phrase of what was expected instead. */
export class InterpolationFailure extends Error {
  constructor(readonly expected: string) {
    super(`expected ${expected}`);
    this.name = 'InterpolationFailure';
  }
}

/**
 * ConfigParser's BasicInterpolation: `%(name)s` is replaced by the raw value of `name` (looked
 * up case-insensitively, and interpolated in turn), `%%` by `%`; any other `%` stays literal.
 *
 * @param lookup the raw value of a key visible where the value is looked up, or undefined.
 * @param scope how to name where `lookup` looks, for messages: "[worker1] or [DEFAULT]".
 * @throws InterpolationFailure
 */
export function interpolate(
  raw: string,
  lookup: (name: string) => string | undefined,
  scope: string,
): string {
  const out: string[] = [];
  interpolateInto(out, raw, lookup, scope, 1);
  return out.join('');
}

function interpolateInto(
  out: string[],
  value: string,
  lookup: (name: string) => string | undefined,
  scope: string,
  depth: number,
): void {
  if (depth > MAX_INTERPOLATION_DEPTH) {
    throw new InterpolationFailure(
      `%(name)s references nested at most ${MAX_INTERPOLATION_DEPTH} deep (does a key refer to itself?)`,
    );
  }
  let rest = value;
  while (rest !== '') {
    const percent = rest.indexOf('%');
    if (percent < 0) {
      out.push(rest);
      return;
    }
    out.push(rest.slice(0, percent));
    rest = rest.slice(percent);
    const next = rest.charAt(1);
    if (next === '%') {
      out.push('%');
      rest = rest.slice(2);
    } else if (next === '(') {
      const match = REFERENCE.exec(rest);
      if (!match) {
        throw new InterpolationFailure(`"%(name)s" to be closed by ")s"`);
      }
      const name = match[1]!.toLowerCase();
      rest = rest.slice(match[0].length);
      const referenced = lookup(name);
      if (referenced === undefined) {
        throw new InterpolationFailure(`"%(${name})s" to name a key of ${scope}`);
      }
      // As Python, only a value with a `%` counts as a level of nesting.
      if (referenced.includes('%')) interpolateInto(out, referenced, lookup, scope, depth + 1);
      else out.push(referenced);
    } else {
      // Kinder than ConfigParser, which refuses it: a `%` before anything but `(` or `%` is
      // literal, so a URL pasted with `%2F` works as in TASKQUEUE_AMQP_URL. `%%` still means `%`.
      out.push('%');
      rest = rest.slice(1);
    }
  }
}
