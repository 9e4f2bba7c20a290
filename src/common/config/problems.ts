import { TqError } from '../errors.js';
import { isSecretKey, MASK, maskUrlPasswords, maskValue, mayContinueSecret } from './secrets.js';

/** One thing wrong with a config value: where it is written and what was expected there. */
export interface ConfigProblem {
  /** The config file, or `environment` for a variable such as TASKQUEUE_AMQP_URL. */
  file: string;
  /** 1-based line where the value (or section) is written; 0 when it is not in the file. */
  line: number;
  /** The section the value is written in (a [DEFAULT] value is reported at [DEFAULT]). */
  section: string | undefined;
  key: string | undefined;
  /** The value as looked up (interpolated), secrets masked. */
  value: string | undefined;
  /** A phrase such as "an integer from 1 to 65535". */
  expected: string;
}

/** Where a syntax error is, beyond file and line. */
export interface SyntaxErrorContext {
  section?: string | undefined;
  key?: string | undefined;
  value?: string | undefined;
  /** The offending line, for errors that are about a whole line. */
  found?: string | undefined;
  /**
   * The key written before the offending line: an unindented line after `passwd` is likely the
   * rest of the password, so it is not shown.
   */
  after?: string | undefined;
}

/**
 * One line `FILE:LINE: [section] key = value: expected …`. Values are shown on one line so that
 * every problem stays one line of the log.
 */
export function formatProblem(p: Omit<ConfigProblem, 'value'> & { value?: string | undefined }) {
  const where = p.line > 0 ? `${p.file}:${p.line}:` : `${p.file}:`;
  const parts = [where];
  if (p.section !== undefined) parts.push(`[${p.section}]`);
  if (p.key !== undefined) {
    parts.push(p.value === undefined ? p.key : `${p.key} = ${showValue(p.value)}`);
  }
  const subject = parts.join(' ');
  // `FILE:LINE:` already ends with a colon; do not add a second one.
  return parts.length === 1
    ? `${subject} expected ${p.expected}`
    : `${subject}: expected ${p.expected}`;
}

function showValue(value: string): string {
  if (value === '') return '""';
  return value.replace(/\n/g, '\\n');
}

/** A `TQ_ERR_CONFIG_SYNTAX` error whose message starts with `FILE:LINE:`. */
export function configSyntaxError(
  file: string,
  line: number,
  expected: string,
  context: SyntaxErrorContext = {},
): TqError {
  const { section, key, after } = context;
  // Masked here, so that neither the message nor the details carry a secret.
  const value = context.value === undefined ? undefined : maskValue(key, context.value);
  const found =
    context.found === undefined
      ? undefined
      : mayContinueSecret(after) || isSecretKey(key)
        ? MASK
        : maskUrlPasswords(context.found);
  let message = formatProblem({ file, line, section, key, value, expected });
  // A line that names a key is shown as "key = value" already.
  if (found !== undefined && key === undefined) message += `; found ${JSON.stringify(found)}`;
  return new TqError('TQ_ERR_CONFIG_SYNTAX', message, {
    details: { file, line, section, key, expected, ...(found === undefined ? {} : { found }) },
  });
}

/**
 * Collects every value problem of a file so that the operator fixes them in one round rather
 * than one restart per mistake.
 */
export class ProblemList {
  private readonly items: ConfigProblem[] = [];
  private readonly seen = new Set<string>();
  /** `TQ_ERR_CONFIG_SYNTAX` errors (lines and `%` references), kept so that checking goes on. */
  private readonly syntax: TqError[] = [];

  /** Records a syntax error (from `configSyntaxError`) unless one was recorded at its place. */
  addSyntax(err: TqError): void {
    const { file, line, section, key } = err.details;
    const id = ['syntax', file, line, section, key].join('\0');
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.syntax.push(err);
  }

  /**
   * Records `problem` unless the same value was reported already: a [DEFAULT] value looked up
   * from many sections (and checked against slightly different rules) is one mistake.
   */
  add(problem: ConfigProblem): void {
    const id = [problem.file, problem.line, problem.section, problem.key].join('\0');
    if (this.seen.has(id)) return;
    this.seen.add(id);
    // Masked here whatever the caller did, so that no path can forget it.
    const { key, value } = problem;
    this.items.push(value === undefined ? problem : { ...problem, value: maskValue(key, value) });
  }

  /** The problems so far, in file order. */
  list(): ConfigProblem[] {
    // Array.prototype.sort is stable, so problems of one line keep the order they were found in.
    return [...this.items].sort((a, b) => a.line - b.line);
  }

  /**
   * @throws TqError `TQ_ERR_CONFIG_VALUE` listing every problem, one line each, in file order;
   *   `TQ_ERR_CONFIG_SYNTAX` when any syntax error was recorded (the first one's details, and
   *   every line of the others and of the value problems in the message, in file order).
   */
  throwIfAny(file: string): void {
    if (this.items.length === 0 && this.syntax.length === 0) return;
    const problems = this.list();
    const [first] = this.syntax;
    if (first === undefined) {
      throw new TqError('TQ_ERR_CONFIG_VALUE', problems.map(formatProblem).join('\n'), {
        details: { file, problems },
      });
    }
    if (this.syntax.length === 1 && problems.length === 0) throw first;
    const lines = [
      ...this.syntax.map((err) => ({ line: Number(err.details.line), text: err.message })),
      ...problems.map((p) => ({ line: p.line, text: formatProblem(p) })),
    ].sort((a, b) => a.line - b.line);
    throw new TqError('TQ_ERR_CONFIG_SYNTAX', lines.map((l) => l.text).join('\n'), {
      details: {
        ...first.details,
        problems,
        syntaxErrors: this.syntax.map((err) => err.details),
      },
    });
  }
}
