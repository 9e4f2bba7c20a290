/**
 * One log event as a JSON line in pino's layout: `level`, `time`, the logger's bindings, the
 * event's fields, `msg`. An `Error` anywhere in the fields is written as pino writes `err`
 * (`type`, `message`, `stack`, its own fields, its `cause`); a cycle or a BigInt, which
 * `JSON.stringify` refuses, is written as `"[Circular]"` or as a string rather than lost.
 */
export function logLine(level: number, prefix: string, fields: string, msg: string | undefined) {
  const message = msg === undefined ? '' : `,"msg":${JSON.stringify(msg)}`;
  return `{"level":${level},"time":${Date.now()}${prefix}${fields}${message}}\n`;
}

/** `,"a":1,"b":2` for `{a: 1, b: 2}`, or '' for an object with no fields. */
export function jsonFields(fields: object): string {
  const json = stringify(fields);
  return json.length > 2 ? `,${json.slice(1, -1)}` : '';
}

function stringify(value: object): string {
  try {
    return JSON.stringify(value, errorsAsObjects);
  } catch {
    return JSON.stringify(value, printableReplacer());
  }
}

function errorsAsObjects(_key: string, value: unknown): unknown {
  return value instanceof Error ? serializeError(value) : value;
}

/** MDN's ancestor-stack replacer: only a true cycle becomes "[Circular]", not a shared object. */
function printableReplacer(): (this: unknown, key: string, value: unknown) => unknown {
  const ancestors: unknown[] = [];
  return function (this: unknown, _key: string, value: unknown): unknown {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value !== 'object' || value === null) return value;
    while (ancestors.length > 0 && ancestors.at(-1) !== this) ancestors.pop();
    if (ancestors.includes(value)) return '[Circular]';
    ancestors.push(value);
    return value instanceof Error ? serializeError(value) : value;
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
