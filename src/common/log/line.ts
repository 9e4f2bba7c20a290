/**
 * One log event as a JSON line in pino's layout: `level`, `time`, the logger's bindings, the
 * event's fields, `msg`. An `Error` anywhere in the fields is written as pino writes `err`
 * (`type`, `message`, `stack`, its own fields, its `cause`); a cycle or a BigInt, which
 * `JSON.stringify` refuses, is written as `"[Circular]"` or as a string rather than lost. Whatever
 * a plugin passes, the line is valid JSON and writing it does not throw.
 */
export function logLine(level: number, prefix: string, fields: string, msg: unknown): string {
  const message = msg === undefined ? '' : `,"msg":${JSON.stringify(cutString(String(msg)))}`;
  const line = `{"level":${level},"time":${Date.now()}${prefix}${fields}${message}}\n`;
  if (line.length <= MAX_LINE_CHARS) return line;
  // Bindings, fields and message are each bounded, so this is only reached when all three are
  // near their bounds: the event's own part goes, the line says how long it was.
  return `{"level":${level},"time":${Date.now()}${prefix},"truncated":{"chars":${line.length}}}\n`;
}

/**
 * The log's budget: no task, sender or plugin can make a line larger than this, whatever it
 * puts in an error message or a field (a task once made a line of megabytes; bench/FINDINGS.md).
 * A string value longer
 * than MAX_STRING_CHARS is cut, with a marker saying how much was left out; an event's fields
 * (and a child logger's bindings) written longer than MAX_FIELDS_CHARS are written again with
 * their strings cut, and failing that replaced by the head of their JSON; a line is at most
 * MAX_LINE_CHARS characters. A line within budget, the usual one, costs one length comparison.
 */
export const MAX_STRING_CHARS = 4 * 1024;
export const MAX_FIELDS_CHARS = 16 * 1024;
export const MAX_LINE_CHARS = 64 * 1024;

/** `text`, or its head and how many characters were left out. */
function cutString(text: string): string {
  if (text.length <= MAX_STRING_CHARS) return text;
  return `${text.slice(0, MAX_STRING_CHARS)}…[${text.length - MAX_STRING_CHARS} more chars]`;
}

/**
 * `,"a":1,"b":2` for `{a: 1, b: 2}`, '' for an object with no fields, and `,"value":…` for what
 * is not written as a JSON object (an array, a Date).
 */
export function jsonFields(fields: object): string {
  const json = withinBudget(fields, stringify(fields));
  if (!json.startsWith('{')) return `,"value":${json}`;
  return json.length > 2 ? `,${json.slice(1, -1)}` : '';
}

/** `json` (of `value`) when within MAX_FIELDS_CHARS; else `value` with its strings cut. */
function withinBudget(value: object, json: string): string {
  if (json.length <= MAX_FIELDS_CHARS) return json;
  let cut: string;
  try {
    cut = JSON.stringify(value, printableReplacer(true)) ?? '"undefined"';
  } catch (err) {
    cut = JSON.stringify({ unserializable: String((err as Error)?.message ?? err) });
  }
  if (cut.length <= MAX_FIELDS_CHARS) return cut;
  return JSON.stringify({
    truncated: { chars: json.length, head: json.slice(0, MAX_STRING_CHARS) },
  });
}

function stringify(value: object): string {
  try {
    return JSON.stringify(value, errorsAsObjects) ?? '"undefined"';
  } catch {
    try {
      return JSON.stringify(value, printableReplacer()) ?? '"undefined"';
    } catch (err) {
      // A getter or a toJSON that throws.
      return JSON.stringify({ unserializable: String((err as Error)?.message ?? err) });
    }
  }
}

function errorsAsObjects(_key: string, value: unknown): unknown {
  return value instanceof Error ? serializeError(value) : value;
}

/**
 * MDN's ancestor-stack replacer (only a true cycle becomes "[Circular]", not a shared object),
 * keeping each ancestor as given and as written, since an Error is written as a new object.
 */
function printableReplacer(
  cutStrings = false,
): (this: unknown, key: string, value: unknown) => unknown {
  const ancestors: Array<{ given: object; written: unknown }> = [];
  return function (this: unknown, _key: string, value: unknown): unknown {
    if (typeof value === 'string') return cutStrings ? cutString(value) : value;
    if (typeof value === 'bigint') return value.toString();
    if (typeof value !== 'object' || value === null) return value;
    while (ancestors.length > 0 && ancestors.at(-1)?.written !== this) ancestors.pop();
    if (ancestors.some((ancestor) => ancestor.given === value)) return '[Circular]';
    const written = value instanceof Error ? serializeError(value) : value;
    ancestors.push({ given: value, written });
    return written;
  };
}

/** pino's `err` layout. `cause` is kept as a nested error, not folded into the message. */
export function serializeError(err: Error): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: err.constructor?.name ?? err.name,
    message: err.message,
    stack: err.stack,
  };
  for (const [key, value] of Object.entries(err)) if (!(key in out)) out[key] = value;
  if (err.cause !== undefined) out.cause = err.cause;
  return out;
}
