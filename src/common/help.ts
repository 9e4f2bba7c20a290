import { ExitStatus } from './exit.js';

// The parts of `--help` every program shares: its exit statuses and the environment it reads,
// kept in one place for the CLI and the daemons. Keep them in step with exit.ts and the README.

/** Exit statuses of the `taskqueue` commands (sysexits.h, SPEC §4). */
export const CLI_EXIT_CODES = `Exit status:
  0   done
  1   submit --wait, run-task: the result is an error; plugins: a configured type has no
      usable plugin, or a plugin the pool would run fails to load; dead: an --id not parked;
      dead drop, purge: answered no; status: a group is failed
  64  usage error (no or unknown command or option, missing or invalid TYPE, bad JSON); dead
      drop, purge: no --yes and no terminal; purge: not a queue of the system
  69  broker unreachable; results, dead, purge: the queue does not exist; status: a daemon
      cannot be reached
  75  submit --wait: no result within --timeout
  77  status: a status socket refuses this user (not root, not in group taskqueue)
  78  config error (a file named with -c missing or invalid); run-task: the plugin or its group
      cannot run here (missing, refused, fails to load or set up)`;

/** Exit statuses of the daemons. */
export const DAEMON_EXIT_CODES = `Exit status:
  0   stopped by SIGTERM or SIGINT
  64  usage error (unknown option)
  69  broker unreachable after [amqp] connect_retries attempts
  78  config error (checked before connecting anywhere)`;

const COMMON_ENVIRONMENT = `  TASKQUEUE_AMQP_URL    broker URL; overrides the config's [amqp] address
  TASKQUEUE_LOG_PRETTY  1: human-readable log lines, 0: JSON lines (default: 1 on a terminal)`;

/** The environment variables the CLI reads. */
export const CLI_ENVIRONMENT = `Environment:
${COMMON_ENVIRONMENT}
  TASKQUEUE_LOG_LEVEL   log level of the command's own messages (default warn)
  NODE_PATH             plugins: also searched for plugin packages
  NPM_CONFIG_PREFIX     plugins: npm's global root (npm root -g), searched for plugin packages
  TASKQUEUE_API_URL     task, tasks, retry, cancel: the API's URL (after --api, before [api] url)
  TASKQUEUE_API_TOKEN   task, tasks, retry, cancel: the API bearer token (after --token and --token-file)`;

/** The environment variables the daemons read. */
export const DAEMON_ENVIRONMENT = `Environment:
${COMMON_ENVIRONMENT}
  TASKQUEUE_LOG_LEVEL   log level until the config's [workerpool] log_level applies (default info)
  NOTIFY_SOCKET         set by systemd (Type=notify): READY=1, RELOADING=1, STATUS= go there
  WATCHDOG_USEC         set by systemd (WatchdogSec=): WATCHDOG=1 is sent every half of it
  NODE_PATH             workerpool: also searched for plugin packages
  NPM_CONFIG_PREFIX     workerpool: npm's global root (npm root -g), searched for plugin packages
  NODE_OPTIONS          workerpool: passed on to the children`;

/** The epilogue of a `--help`: exit statuses, then the environment. */
export function helpEpilogue(exitCodes: string, environment: string): string {
  return `${exitCodes}\n\n${environment}`;
}

/**
 * yargs' `.fail()` for every program: a malformed command line is a usage error, exit 64 as
 * sysexits.h and the README say (yargs itself exits 1). Says why, and where the usage is, on
 * stderr; the whole help would bury the reason.
 */
export function failWithUsage(
  name: string,
): (message: string | undefined, err: Error | undefined) => never {
  return (message, err) => {
    const reason = message ?? err?.message ?? 'malformed command line';
    process.stderr.write(
      `${name}: ${reason} [TQ_ERR_CLI_USAGE]\nRun '${name} --help' for usage.\n`,
    );
    process.exit(ExitStatus.USAGE);
  };
}

/** Help text width: wide enough for the exit-status and environment tables to stay unwrapped. */
export const HELP_WIDTH = 100;
