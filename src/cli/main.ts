#!/usr/bin/env node
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_CONFIG_FILE } from '../common/config/load.js';
import { exitStatusFor } from '../common/exit.js';
import {
  CLI_ENVIRONMENT,
  CLI_EXIT_CODES,
  failWithUsage,
  HELP_WIDTH,
  helpEpilogue,
} from '../common/help.js';
import { createLogger } from '../common/logger.js';
import { cancelTaskCommand, retryTaskCommand } from './api/actions.js';
import { listTasks, showTask } from './api/tasks.js';
import { checkConfig } from './check-config.js';
import { type CommandConfig, commandConfig } from './config-source.js';
import { checkDeadArgs, DEAD_ACTIONS, DEFAULT_LIST_LIMIT } from './dead/args.js';
import { dropParked } from './dead/drop.js';
import { listParked } from './dead/list.js';
import { requeueParked } from './dead/requeue.js';
import { DEFAULT_LOAD_TIMEOUT_S } from './plugin-load-check.js';
import { listPlugins } from './plugins.js';
import { purgeQueue } from './purge.js';
import { showQueues } from './queues/queues.js';
import { printResults } from './results.js';
import { runTask } from './run-task.js';
import { SCHEDULE_HELP } from './schedule-options.js';
import { showStatus } from './status.js';
import { asksForStdin, STDIN_ARGUMENT } from './stdin-fields.js';
import { submit } from './submit.js';

const log = createLogger('taskqueue', process.env.TASKQUEUE_LOG_LEVEL ?? 'warn');
const args = hideBin(process.argv);
const epilogue = helpEpilogue(CLI_EXIT_CODES, CLI_ENVIRONMENT);

const explicitConfig = args.some(
  (arg) => arg === '-c' || arg === '--config' || arg.startsWith('--config='),
);

/** The command's config; the notice about an implicit broker goes to stderr first. */
function configFrom(file: string, checking = false): CommandConfig {
  const loaded = commandConfig(file, explicitConfig, process.env, { checking });
  if (loaded.notice) process.stderr.write(`taskqueue: ${loaded.notice}\n`);
  return loaded;
}

/** Where the API and its token come from; `needs`: the token's role, e.g. 'a read token is enough'. */
const apiEpilogue = (needs: string) =>
  'The API: --api, else TASKQUEUE_API_URL, else [api] url, else [api] listen when the config has\n' +
  'an [api] section; none: exit 78 (TQ_ERR_CLI_NO_API). The token: --token, else --token-file,\n' +
  `else TASKQUEUE_API_TOKEN (${needs}). An API error exits 1\n` +
  "(TQ_ERR_CLI_API_REFUSED, the API's code shown); no answer exits 69.\n\n";
const API_EPILOGUE = apiEpilogue('a read token is enough');

/** The options every command that asks the API has. */
function apiOptions<T>(y: Argv<T>) {
  return y
    .option('api', { type: 'string', describe: 'the API URL (http://host:port)' })
    .option('token', { type: 'string', describe: 'bearer token (visible to ps: prefer the file)' })
    .option('token-file', { type: 'string', describe: 'a file whose first line is the token' });
}

function apiChoice(argv: { api?: string; token?: string; 'token-file'?: string }) {
  return { api: argv.api, token: argv.token, tokenFile: argv['token-file'] };
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

await yargs(args)
  .scriptName('taskqueue')
  .usage('$0 <command> [options]\n\nBroker address: the config file, or TASKQUEUE_AMQP_URL.')
  .option('c', {
    alias: 'config',
    type: 'string',
    default: DEFAULT_CONFIG_FILE,
    describe: 'config file (when the default is absent: built-in defaults, broker localhost)',
    global: true,
  })
  .command(
    'submit <type> [fields]',
    'wrap JSON fields in a Ruote workitem and publish it (direct to the queue of TYPE by default)',
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
          describe: 'seconds to wait for the result (after the task is due)',
        })
        .option('priority', {
          type: 'number',
          describe: SCHEDULE_HELP.priority,
          requiresArg: true,
        })
        .option('delay', { type: 'string', describe: SCHEDULE_HELP.delay, requiresArg: true })
        .option('at', {
          type: 'string',
          describe: SCHEDULE_HELP.at,
          requiresArg: true,
        })
        .option('ttl', { type: 'string', describe: SCHEDULE_HELP.ttl, requiresArg: true })
        .option('via-dispatcher', {
          type: 'boolean',
          default: false,
          describe: 'publish to the input queue, not direct to the type (docs/direct-path.md)',
        })
        .example('$0 submit echo \'{"n":1}\' --wait', 'publish a task for echo, print its result')
        .example('$0 submit report --delay 10m --ttl 1h', 'run it in 10 min, not after 1 h 10 min')
        .example('$0 submit report --at "2026-12-24 08:00"', '8:00 local time (TZ of this command)')
        .example('some-program | $0 submit shell -', 'the fields from stdin; prints the task id')
        .epilogue(
          'Warns on stderr when no dispatcher or no worker of TYPE consumes now (the task waits).\n' +
            'A delayed task (--delay, --at) waits in the broker: its id on stdout as always, and on\n' +
            'stderr "task ID waits until ISO (in 10m)". Times are absolute UTC from here on\n' +
            '(docs/delays.md).\n\n' +
            epilogue,
        ),
    (argv) =>
      run(() =>
        submit(configFrom(argv.c).config, log, {
          type: argv.type,
          // yargs reads a lone `-` as an empty string.
          fields: asksForStdin(args) ? STDIN_ARGUMENT : argv.fields,
          wait: argv.wait,
          timeoutSeconds: argv.timeout,
          viaDispatcher: argv.viaDispatcher,
          schedule: {
            ...(argv.priority === undefined ? {} : { priority: argv.priority }),
            ...(argv.delay === undefined ? {} : { delay: argv.delay }),
            ...(argv.at === undefined ? {} : { at: argv.at }),
            ...(argv.ttl === undefined ? {} : { ttl: argv.ttl }),
          },
        }),
      ),
  )
  .command(
    'results',
    'print (and take, unless --peek) the results waiting on the results queue',
    (y) =>
      y
        .option('follow', {
          alias: 'f',
          type: 'boolean',
          default: false,
          describe: 'keep printing new results',
        })
        .option('queue', {
          type: 'string',
          default: 'results',
          describe: 'results queue (must exist: it is never created)',
        })
        .option('properties', {
          type: 'boolean',
          default: false,
          describe: 'print the headers too',
        })
        .option('peek', {
          type: 'boolean',
          default: false,
          describe: 'print without taking: the results stay on the queue, in order',
        })
        // Not .conflicts(): yargs counts the defaults (false) as given.
        .check((argv) => !(argv.peek && argv.follow) || '--peek and --follow exclude each other')
        .example('$0 results --peek', 'look at the waiting results, leave them there')
        .example('$0 results --follow', 'take and print results as they come')
        .epilogue(
          'Output: one JSON object a line, {"correlation_id": the task id, "result": ...}\n' +
            '(with --properties also "headers").\n\n' +
            epilogue,
        ),
    (argv) =>
      run(() =>
        printResults(configFrom(argv.c).config, log, {
          queue: argv.queue,
          follow: argv.follow,
          withProperties: argv.properties,
          peek: argv.peek,
        }),
      ),
  )
  .command(
    'check-config',
    'validate a config file without connecting; exit 0 or 78',
    (y) =>
      y
        .option('for-other-host', {
          type: 'boolean',
          default: false,
          describe:
            'users, groups and plugins this host lacks are warnings (a file for another host)',
        })
        .example('$0 check-config -c /etc/taskqueue/config.ini', 'validate this file')
        .example(
          '$0 check-config -c host2.ini --for-other-host',
          'validate a file meant for another host',
        )
        .epilogue(epilogue),
    (argv) =>
      run(() =>
        checkConfig(
          argv.c,
          { explicit: explicitConfig, forOtherHost: argv['for-other-host'] },
          (line) => process.stdout.write(`${line}\n`),
          (line) => process.stderr.write(`${line}\n`),
        ),
      ),
  )
  .command(
    'plugins',
    'list the plugins found, their path, version and the children the config gives them, and load each one the pool would run; exit 1 when a configured type has no usable plugin or one fails to load',
    (y) =>
      y
        .option('load', {
          type: 'boolean',
          default: true,
          describe:
            "load each plugin in a child as its group's user (not setup); --no-load: only read package.json files",
        })
        .option('load-timeout', {
          type: 'number',
          default: DEFAULT_LOAD_TIMEOUT_S,
          describe: 'seconds a plugin may take to load before it is reported as timed out',
        })
        .check(
          (argv) =>
            (Number.isFinite(argv['load-timeout']) && argv['load-timeout'] > 0) ||
            '--load-timeout must be a number of seconds above 0',
        )
        .example('$0 plugins -c /etc/taskqueue/config.ini', 'what the pool would run, loaded')
        .example('$0 plugins --no-load', 'the listing alone: no plugin code runs')
        .epilogue(epilogue),
    (argv) =>
      run(() =>
        listPlugins(configFrom(argv.c).config, (line) => process.stdout.write(`${line}\n`), {
          load: argv.load,
          loadTimeoutMs: argv['load-timeout'] * 1000,
        }),
      ),
  )
  .command(
    'run-task <type> [workitem]',
    "run one workitem through the installed plugin of TYPE, as its group's user, without a broker; print what it publishes",
    (y) =>
      y
        .positional('type', { type: 'string', demandOption: true, describe: 'worker type' })
        .positional('workitem', {
          type: 'string',
          describe:
            'JSON: a whole workitem when it has a "fields" key, else the fields alone (wrapped as submit wraps them); - for stdin; none: only fields.params.worker_type',
        })
        .option('group', {
          type: 'string',
          describe: 'the group to run as: TYPE_INSTANCE (default: the group TYPE)',
        })
        .option('pretty', {
          type: 'boolean',
          default: false,
          describe: 'print each published workitem indented, not one a line',
        })
        .example('$0 run-task echo \'{"n":1}\'', 'the fields {"n":1}; prints the result')
        .example(
          '$0 run-task worker2 --group worker2_bifh1 - < workitem.json',
          'a whole workitem from stdin, run as the group worker2_bifh1',
        )
        .epilogue(
          "Runs in a child started as the pool starts its children (the group's user, timeout,\n" +
            'max_attempts: a retryable failure is attempted again at once), then reportResults and\n' +
            'teardown. Results on stdout, one JSON workitem a line; logs and what the plugin prints\n' +
            'on stderr.\n\n' +
            epilogue,
        ),
    (argv) =>
      run(() =>
        runTask(
          configFrom(argv.c).config,
          {
            type: argv.type,
            // yargs reads a lone `-` as an empty string.
            workitem: asksForStdin(args, 'run-task') ? STDIN_ARGUMENT : argv.workitem,
            group: argv.group,
            pretty: argv.pretty,
          },
          {
            out: (text) => process.stdout.write(text),
            err: (line) => process.stderr.write(`${line}\n`),
          },
        ),
      ),
  )
  .command(
    'queues',
    'ready, unacked, consumers and rates of every queue of the system (management API, else passive declares)',
    (y) =>
      apiOptions(y)
        .option('json', { type: 'boolean', default: false, describe: 'one JSON document' })
        .option('management', {
          type: 'string',
          describe:
            'management API URL (default [amqp] management_url, else http://BROKER:15672 with the broker login)',
        })
        .option('passive', {
          type: 'boolean',
          default: false,
          describe: 'only passive declares: ready and consumers of the names the config gives',
        })
        .option('type', {
          type: 'string',
          array: true,
          default: [] as string[],
          describe: 'also look at worker_TYPE and its queues (passive declares)',
        })
        .check(
          (argv) =>
            !(argv.passive && argv.management) || '--passive and --management exclude each other',
        )
        .example('$0 queues', 'every queue of the system, its depth and consumers')
        .example('$0 queues --passive --type shell', 'without the management API, shell too')
        .epilogue(
          "The delay ladder's level queues (taskqueue.delay.NN) are one line, `delayed`, with the\n" +
            'tasks they hold and when all are due; when an API answers (as for `taskqueue tasks`),\n' +
            'the 10 delayed tasks due soonest follow, with their type and due time.\n\n' +
            epilogue,
        ),
    (argv) =>
      run(() =>
        showQueues(
          configFrom(argv.c).config,
          log,
          {
            management: argv.management,
            passive: argv.passive,
            types: argv.type.map(String),
            json: argv.json,
            api: apiChoice(argv),
          },
          (line) => process.stdout.write(`${line}\n`),
        ),
      ),
  )
  .command(
    'dead <action> [type]',
    'list, requeue or drop the tasks parked on worker_TYPE.dead (or, with --invalid, on the input .invalid queue)',
    (y) =>
      y
        .positional('action', { choices: DEAD_ACTIONS, demandOption: true, describe: 'what to do' })
        .positional('type', { type: 'string', describe: 'worker type: its queue worker_TYPE.dead' })
        .option('invalid', {
          type: 'boolean',
          default: false,
          describe: 'the input queue .invalid (what the dispatcher parked) instead of a TYPE',
        })
        .option('id', {
          type: 'string',
          array: true,
          describe: 'the task(s) with this message id (else correlation id)',
        })
        .option('all', { type: 'boolean', default: false, describe: 'requeue, drop: every task' })
        .option('limit', {
          type: 'number',
          describe: `at most N tasks (list: default ${DEFAULT_LIST_LIMIT})`,
        })
        .option('dry-run', {
          type: 'boolean',
          default: false,
          describe: 'requeue, drop: say how many and which, change nothing',
        })
        .option('yes', {
          type: 'boolean',
          default: false,
          describe: 'drop: no question (needed without a terminal)',
        })
        .option('json', { type: 'boolean', default: false, describe: 'list: one JSON document' })
        .example('$0 dead list shell', 'the tasks parked on worker_shell.dead, left in place')
        .example('$0 dead requeue shell --id 5f0c…', 'send that one back to the input queue')
        .example('$0 dead drop --invalid --all --yes', 'delete what the dispatcher parked')
        .epilogue(
          'requeue copies each task to the input queue with a confirm before it takes it off the\n' +
            'parked queue: a command killed halfway loses nothing (a task may then be on both).\n\n' +
            epilogue,
        ),
    (argv) =>
      run(() => {
        const request = checkDeadArgs({
          action: argv.action,
          type: argv.type,
          invalid: argv.invalid,
          id: argv.id?.map(String),
          all: argv.all,
          dryRun: argv['dry-run'],
          yes: argv.yes,
          limit: argv.limit,
          json: argv.json,
        });
        const action = { list: listParked, requeue: requeueParked, drop: dropParked }[
          request.action
        ];
        return action(configFrom(argv.c).config, log, request, (line) =>
          process.stdout.write(`${line}\n`),
        );
      }),
  )
  .command(
    'purge <queue>',
    "delete the ready messages of one of the system's queues, after a question (or --yes)",
    (y) =>
      y
        .positional('queue', { type: 'string', demandOption: true, describe: 'queue name' })
        .option('yes', {
          type: 'boolean',
          default: false,
          describe: 'no question (needed without a terminal)',
        })
        .example('$0 purge worker_shell.retry.10000ms --yes', 'drop the waiting retries of shell')
        .epilogue(epilogue),
    (argv) =>
      run(() =>
        purgeQueue(configFrom(argv.c).config, log, { queue: argv.queue, yes: argv.yes }, (line) =>
          process.stdout.write(`${line}\n`),
        ),
      ),
  )
  .command(
    'status',
    'show the live state of the pool (groups, children, tasks in hand) and the dispatcher, from their status sockets; exit 1 when a group is failed',
    (y) =>
      y
        .option('json', {
          type: 'boolean',
          default: false,
          describe: "print the daemons' answers as JSON (docs/status.md has the shape)",
        })
        .option('socket', {
          type: 'string',
          array: true,
          describe:
            "ask the daemon on this socket instead of the config's status_socket (repeatable)",
        })
        .example('$0 status', 'the pool and the dispatcher at a glance')
        .example('$0 status --json | jq .daemons[0].status.totals', 'for scripts')
        .epilogue(
          'Only root and members of group taskqueue may ask (the sockets are 0660 root:taskqueue).\n' +
            'Exit status: 0 all well; 1 a group of the pool is failed, paused or refused; 69 a daemon\n' +
            'cannot be reached (TQ_ERR_STATUS_UNREACHABLE); 77 a socket refuses this user\n' +
            '(TQ_ERR_STATUS_DENIED).\n\n' +
            epilogue,
        ),
    (argv) =>
      run(() =>
        showStatus(
          // --socket needs no config: the sockets are named.
          argv.socket?.length ? undefined : configFrom(argv.c).config,
          { json: argv.json, sockets: argv.socket?.map(String) },
          (line) => process.stdout.write(`${line}\n`),
          (line) => process.stderr.write(`${line}\n`),
        ),
      ),
  )
  .command(
    'task <id>',
    'show a task from the API: its state, attempts (host, pid, user, error, crash log), responses and result',
    (y) =>
      apiOptions(y)
        .positional('id', { type: 'string', demandOption: true, describe: 'task id' })
        .option('json', { type: 'boolean', default: false, describe: "the API's record as JSON" })
        .example('$0 task 5f0c…', 'what happened to that task')
        .epilogue(API_EPILOGUE + epilogue),
    (argv) =>
      run(() =>
        showTask(
          configFrom(argv.c).config,
          { ...apiChoice(argv), id: argv.id, json: argv.json },
          (line) => process.stdout.write(`${line}\n`),
        ),
      ),
  )
  .command(
    'tasks',
    'list tasks from the API by state, type, time and workitem field, newest first, a page at a time',
    (y) =>
      apiOptions(y)
        .option('state', {
          type: 'string',
          array: true,
          describe: 'only these states (repeatable, or comma-separated)',
        })
        .option('type', { type: 'string', describe: 'only tasks addressed to this type' })
        .option('since', { type: 'string', describe: 'created at or after (ISO time)' })
        .option('until', { type: 'string', describe: 'created before (ISO time)' })
        .option('field', {
          type: 'string',
          array: true,
          describe: 'PATH=VALUE: a workitem field (dotted path under fields) equals VALUE',
        })
        .option('limit', { type: 'number', describe: 'tasks a page, 1 to 1000 (default 100)' })
        .option('cursor', { type: 'string', describe: 'the next page (printed after a full one)' })
        .option('json', { type: 'boolean', default: false, describe: "the API's page as JSON" })
        .example('$0 tasks --state failed,poisoned --type shell', 'what failed lately')
        .example('$0 tasks --field order.id=42 --json', 'by a field of the workitem')
        .example('$0 tasks --state delayed', 'tasks waiting in the broker, with a DUE column')
        .epilogue(API_EPILOGUE + epilogue),
    (argv) =>
      run(() =>
        listTasks(
          configFrom(argv.c).config,
          {
            ...apiChoice(argv),
            state: (argv.state ?? []).flatMap((s) => String(s).split(',')).filter(Boolean),
            type: argv.type,
            since: argv.since,
            until: argv.until,
            field: (argv.field ?? []).map(String),
            limit: argv.limit,
            cursor: argv.cursor,
            json: argv.json,
          },
          (line) => process.stdout.write(`${line}\n`),
        ),
      ),
  )
  .command(
    'retry <id>',
    'run a failed, poisoned, incomplete or expired task again through the API (same id, next run)',
    (y) =>
      apiOptions(y)
        .positional('id', { type: 'string', demandOption: true, describe: 'task id' })
        .option('json', { type: 'boolean', default: false, describe: "the API's record as JSON" })
        .example('$0 retry 5f0c…', 'prints the new run and its state')
        .epilogue(
          'A task that is not failed, poisoned, incomplete or expired is refused (409).\n\n' +
            apiEpilogue('role retry or operate') +
            epilogue,
        ),
    (argv) =>
      run(() =>
        retryTaskCommand(
          configFrom(argv.c).config,
          { ...apiChoice(argv), id: argv.id, json: argv.json },
          (line) => process.stdout.write(`${line}\n`),
        ),
      ),
  )
  .command(
    'cancel <id>',
    'ask the API to cancel a task: never run if not started, its signal aborted if running',
    (y) =>
      apiOptions(y)
        .positional('id', { type: 'string', demandOption: true, describe: 'task id' })
        .option('json', { type: 'boolean', default: false, describe: "the API's record as JSON" })
        .example(
          '$0 cancel 5f0c…',
          'the cancel is asked for; `taskqueue task 5f0c…` shows the outcome',
        )
        .epilogue(
          'A task already final is refused (409 TQ_ERR_API_TASK_FINAL).\n\n' +
            apiEpilogue('an operate token') +
            epilogue,
        ),
    (argv) =>
      run(() =>
        cancelTaskCommand(
          configFrom(argv.c).config,
          { ...apiChoice(argv), id: argv.id, json: argv.json },
          (line) => process.stdout.write(`${line}\n`),
        ),
      ),
  )
  .example('$0 submit echo \'{"n":1}\' --wait', 'publish a task and print its result')
  .example('$0 check-config -c /etc/taskqueue/config.ini', 'validate a config')
  .epilogue(epilogue)
  .demandCommand(1, 'name a command')
  .strict()
  .wrap(HELP_WIDTH)
  .fail(failWithUsage('taskqueue'))
  .help()
  .parseAsync();
