#!/usr/bin/env node
/**
 * `create-taskqueue-plugin <type>`, also run by `npm init taskqueue-plugin <type>`: writes a
 * new worker plugin package, `taskqueue-plugin-<type>`, ready to build, test and pack.
 */
import { HELP, parseScaffoldArgs, USAGE, UsageError } from './args.js';
import { DirectoryNotEmptyError, generatePlugin } from './generate.js';
import { nextSteps } from './next-steps.js';

/** Exit statuses, as sysexits.h names them. */
const EX_USAGE = 64;
const EX_CANTCREAT = 73;

function main(argv: string[]): number {
  let options: ReturnType<typeof parseScaffoldArgs>;
  try {
    options = parseScaffoldArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`create-taskqueue-plugin: ${err.message}\n${USAGE}\n`);
    return EX_USAGE;
  }
  if (options === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    generatePlugin(options);
  } catch (err) {
    if (!(err instanceof DirectoryNotEmptyError)) throw err;
    process.stderr.write(`create-taskqueue-plugin: ${err.message}\n`);
    return EX_CANTCREAT;
  }
  process.stdout.write(nextSteps(options));
  return 0;
}

process.exitCode = main(process.argv.slice(2));
