import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { workerTypeProblem } from './worker-type.js';

export const USAGE =
  'usage: create-taskqueue-plugin <type> [--dir DIR] [--api-spec SPEC] [--force]';

/** `--help`: the usage and what each part means. */
export const HELP = `${USAGE}

Writes taskqueue-plugin-<type>/, a taskqueue worker plugin package (TypeScript, node:test).

  <type>           the worker type: the pool's queue worker_<type>
  --dir DIR        where to write (default ./taskqueue-plugin-<type>); refused when it holds files
  --api-spec SPEC  the @taskqueue/plugin-api devDependency (default ^1.1.0; file:<tarball> works)
  --force          write into a directory that holds files
`;

/** The API range a new plugin is written against, and the version it tests with by default. */
export const DEFAULT_API_SPEC = '^1.1.0';

/** npm refuses longer package names. */
const NPM_NAME_MAX = 214;

/** What to create, from the command line. */
export interface ScaffoldOptions {
  type: string;
  packageName: string;
  /** Absolute. */
  dir: string;
  /** The version spec of `@taskqueue/plugin-api` in devDependencies (a range, `file:…`, a tag). */
  apiSpec: string;
  /** Write into a non-empty directory. */
  force: boolean;
}

/** A command line this program cannot act on; the message says why. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Reads the arguments (without node and the script); throws UsageError when they are wrong. */
export function parseScaffoldArgs(argv: string[], cwd = process.cwd()): ScaffoldOptions | 'help' {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0 ? 'the worker type is missing' : 'give one worker type',
    );
  }
  const type = positionals[0]!;
  const problem = typeProblem(type);
  if (problem !== undefined) throw new UsageError(`not a worker type: ${problem}`);
  const packageName = `taskqueue-plugin-${type}`;
  if (values['api-spec'] === '') throw new UsageError('--api-spec is empty');
  return {
    type,
    packageName,
    dir: resolve(cwd, values.dir ?? packageName),
    apiSpec: values['api-spec'] ?? DEFAULT_API_SPEC,
    force: values.force ?? false,
  };
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      dir: { type: 'string' },
      'api-spec': { type: 'string' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/**
 * The pool's worker type grammar, and npm's rules for the package name the type becomes: npm
 * publishes no name with capitals nor one longer than 214 characters.
 */
function typeProblem(type: string): string | undefined {
  const problem = workerTypeProblem(type);
  if (problem !== undefined) return problem;
  if (type !== type.toLowerCase()) {
    return `${JSON.stringify(type)} has capitals, and npm package names (taskqueue-plugin-<type>) have none`;
  }
  if (`taskqueue-plugin-${type}`.length > NPM_NAME_MAX) {
    return `taskqueue-plugin-<type> would be longer than npm's ${NPM_NAME_MAX} characters`;
  }
  return undefined;
}
