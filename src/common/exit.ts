import { type ErrorCode, hasCode } from './errors.js';

/** Exit statuses from sysexits.h that SPEC §4 promises. */
export const ExitStatus = {
  OK: 0,
  FAILURE: 1,
  USAGE: 64,
  UNAVAILABLE: 69,
  TEMPFAIL: 75,
  SOFTWARE: 70,
  NOPERM: 77,
  CONFIG: 78,
} as const;

const statusByCode: Partial<Record<ErrorCode, number>> = {
  TQ_ERR_CONFIG_SYNTAX: ExitStatus.CONFIG,
  TQ_ERR_CONFIG_VALUE: ExitStatus.CONFIG,
  TQ_ERR_CONFIG_READ: ExitStatus.CONFIG,
  TQ_ERR_CONFIG_TLS_READ: ExitStatus.CONFIG,
  TQ_ERR_STORE_SCHEMA_NEWER: ExitStatus.CONFIG,
  TQ_ERR_AMQP_UNREACHABLE: ExitStatus.UNAVAILABLE,
  TQ_ERR_AMQP_QUEUE_MISMATCH: ExitStatus.CONFIG,
  // A max_priority the broker cannot honour on the queue type: config, as a mismatch is.
  TQ_ERR_PRIORITY_UNSUPPORTED: ExitStatus.CONFIG,
  TQ_ERR_CLI_USAGE: ExitStatus.USAGE,
  TQ_ERR_CLI_TIMEOUT: ExitStatus.TEMPFAIL,
  // sysexits: "a service is unavailable ... a support program or file does not exist"; the
  // results queue appears when the pool's children start, so "try later" is the right reading.
  TQ_ERR_CLI_NO_QUEUE: ExitStatus.UNAVAILABLE,
  // 78 rather than 77 (EX_NOPERM): user, password and vhost are config, SPEC §4 names 78 for a
  // config error, and the units already do not restart on it.
  TQ_ERR_AMQP_ACCESS_REFUSED: ExitStatus.CONFIG,
  // `taskqueue run-task`: the plugin or its group cannot run here, as the pool would find.
  TQ_ERR_PLUGIN_MISSING: ExitStatus.CONFIG,
  TQ_ERR_PLUGIN_LOAD: ExitStatus.CONFIG,
  TQ_ERR_PLUGIN_LOAD_TIMEOUT: ExitStatus.CONFIG,
  TQ_ERR_PLUGIN_API: ExitStatus.CONFIG,
  TQ_ERR_PLUGIN_SHAPE: ExitStatus.CONFIG,
  TQ_ERR_PLUGIN_SETUP: ExitStatus.CONFIG,
  TQ_ERR_GROUP_REFUSED: ExitStatus.CONFIG,
  TQ_ERR_GROUP_UNREADABLE: ExitStatus.CONFIG,
  // `taskqueue run-task`: the child could not become the group's user, as with a refused group.
  TQ_ERR_CHILD_IDENTITY: ExitStatus.CONFIG,
  // `taskqueue purge`: a queue that is not ours is a wrong argument, as a bad TYPE is.
  TQ_ERR_CLI_NOT_OUR_QUEUE: ExitStatus.USAGE,
  // `taskqueue dead requeue|drop --id`: the named ones found were done; the rest is reported.
  TQ_ERR_DEAD_NOT_FOUND: ExitStatus.FAILURE,
  TQ_ERR_METRICS_TOKEN: ExitStatus.CONFIG,
  TQ_ERR_API_TOKENS_FILE: ExitStatus.CONFIG,
  TQ_ERR_API_STORE: ExitStatus.CONFIG,
  // As for metrics_listen: an address in use may be free again soon.
  TQ_ERR_API_LISTEN: ExitStatus.UNAVAILABLE,
  // An address in use may be free again soon (the previous process still leaving): restarted.
  TQ_ERR_METRICS_LISTEN: ExitStatus.UNAVAILABLE,
  // `taskqueue status`: the daemon is down or its socket is off, as for a broker not there.
  TQ_ERR_STATUS_UNREACHABLE: ExitStatus.UNAVAILABLE,
  TQ_ERR_STATUS_DENIED: ExitStatus.NOPERM,
  // `taskqueue task|tasks`: no API configured is config; an API not answering is unavailable.
  TQ_ERR_CLI_NO_API: ExitStatus.CONFIG,
  TQ_ERR_CLI_API_UNREACHABLE: ExitStatus.UNAVAILABLE,
  // An unknown id, a bad filter, a refused token: the answer is "no", as for dead --id.
  TQ_ERR_CLI_API_REFUSED: ExitStatus.FAILURE,
};

/** The exit status a program ends with when `err` stops it. */
export function exitStatusFor(err: unknown): number {
  for (const [code, status] of Object.entries(statusByCode)) {
    if (hasCode(err, code as ErrorCode)) return status;
  }
  return ExitStatus.SOFTWARE;
}
