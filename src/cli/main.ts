#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_CONFIG_FILE } from '../common/config/load.js';
import type { Config } from '../common/config/types.js';
import { exitStatusFor } from '../common/exit.js';
import { createLogger } from '../common/logger.js';
import { checkConfig } from './check-config.js';
import { cliConfig } from './config-file.js';
import { listPlugins } from './plugins.js';
import { printResults } from './results.js';
import { submit } from './submit.js';

const log = createLogger('taskqueue', process.env.TASKQUEUE_LOG_LEVEL ?? 'warn');

/** The config of a command (see cliConfig: defaults when the default file is absent). */
function configFrom(file: string, explicit: boolean): Config {
  return cliConfig(file, explicit);
}

async function run(body: () => Promise<number> | number): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (err) {
    const code = (err as { code?: string }).code;
    process.stderr.write(`taskqueue: ${(err as Error).message}${code ? ` [${code}]` : ''}\n`);
    process.exitCode = exitStatusFor(err);
  }
}

const explicitConfig = process.argv.some(
  (arg) => arg === '-c' || arg === '--config' || arg.startsWith('--config='),
);

await yargs(hideBin(process.argv))
  .scriptName('taskqueue')
  .usage('$0 <command> [options]\n\nBroker address: the config file, or TASKQUEUE_AMQP_URL.')
  .option('c', {
    alias: 'config',
    type: 'string',
    default: DEFAULT_CONFIG_FILE,
    describe: 'config file',
    global: true,
  })
  .command(
    'submit <type> [fields]',
    'wrap JSON fields in a Ruote workitem and publish it to the input queue',
    (y) =>
      y
        .positional('type', { type: 'string', demandOption: true, describe: 'worker type' })
        .positional('fields', { type: 'string', describe: 'JSON object of fields, or - for stdin' })
        .option('wait', {
          type: 'boolean',
          default: false,
          describe: 'print the result (via reply_to)',
        })
        .option('timeout', {
          type: 'number',
          default: 60,
          describe: 'seconds to wait for the result',
        }),
    (argv) =>
      run(() =>
        submit(configFrom(argv.c, explicitConfig), log, {
          type: argv.type,
          fields: argv.fields,
          wait: argv.wait,
          timeoutSeconds: argv.timeout,
        }),
      ),
  )
  .command(
    'results',
    'print (and take) the results waiting on the results queue',
    (y) =>
      y
        .option('follow', {
          alias: 'f',
          type: 'boolean',
          default: false,
          describe: 'keep printing new results',
        })
        .option('queue', { type: 'string', default: 'results', describe: 'results queue' })
        .option('properties', {
          type: 'boolean',
          default: false,
          describe: 'print headers and correlation id too',
        }),
    (argv) =>
      run(() =>
        printResults(configFrom(argv.c, explicitConfig), log, {
          queue: argv.queue,
          follow: argv.follow,
          withProperties: argv.properties,
        }),
      ),
  )
  .command(
    'check-config',
    'validate a config file without connecting; exit 0 or 78',
    (y) =>
      y.option('for-other-host', {
        type: 'boolean',
        default: false,
        describe:
          'users, groups and plugins this host lacks are warnings (a file for another host)',
      }),
    (argv) =>
      run(() =>
        checkConfig(
          argv.c,
          { forOtherHost: argv['for-other-host'] },
          (line) => process.stdout.write(`${line}\n`),
          (line) => process.stderr.write(`${line}\n`),
        ),
      ),
  )
  .command(
    'plugins',
    'list the plugins found, their path, version and the children the config gives them',
    (y) => y,
    (argv) =>
      run(() =>
        listPlugins(configFrom(argv.c, explicitConfig), (line) =>
          process.stdout.write(`${line}\n`),
        ),
      ),
  )
  .demandCommand(1, 'name a command')
  .strict()
  .help()
  .parseAsync();
