import { deadQueue, invalidQueue } from '../../common/amqp/queues.js';
import { TqError } from '../../common/errors.js';
import { checkWorkerType } from '../worker-type-check.js';

export const DEAD_ACTIONS = ['list', 'requeue', 'drop'] as const;
export type DeadAction = (typeof DEAD_ACTIONS)[number];

/** How many tasks `dead list` shows unless `--limit` says otherwise. */
export const DEFAULT_LIST_LIMIT = 100;

/** The command line of `taskqueue dead`, as yargs hands it over. */
export interface DeadArgv {
  action: DeadAction;
  type: string | undefined;
  invalid: boolean;
  id: string[] | undefined;
  all: boolean;
  dryRun: boolean;
  yes: boolean;
  limit: number | undefined;
  json: boolean;
}

/** A checked `taskqueue dead` command. */
export interface DeadRequest {
  action: DeadAction;
  /** The worker type of a `.dead` queue; undefined for the input's `.invalid`. */
  type: string | undefined;
  /** Which tasks: these ids (message id, else correlation id), or all of them (undefined). */
  ids: string[] | undefined;
  /** At most this many tasks are shown, requeued or dropped. */
  limit: number;
  dryRun: boolean;
  yes: boolean;
  json: boolean;
}

/**
 * Checks what yargs cannot: one queue (TYPE or --invalid), one choice for requeue and drop
 * (--id or --all), options that mean something for the action. Every refusal is
 * TQ_ERR_CLI_USAGE (exit 64) with the option named.
 */
export function checkDeadArgs(argv: DeadArgv): DeadRequest {
  const usage = (message: string) => new TqError('TQ_ERR_CLI_USAGE', message);
  if (argv.type !== undefined && argv.invalid)
    throw usage('give TYPE or --invalid, not both: one queue at a time');
  if (argv.type === undefined && !argv.invalid)
    throw usage('name the queue: TYPE (worker_TYPE.dead) or --invalid (the input queue .invalid)');
  if (argv.type !== undefined) checkWorkerType(argv.type);
  const ids = argv.id?.map(String).filter((id) => id !== '');
  if (argv.id !== undefined && (ids === undefined || ids.length === 0))
    throw usage('--id needs a task id');
  if (argv.limit !== undefined && !(Number.isSafeInteger(argv.limit) && argv.limit >= 1))
    throw usage('--limit must be an integer ≥ 1');
  if (argv.action === 'list') {
    if (argv.all)
      throw usage('dead list shows every task (up to --limit): --all is for requeue and drop');
    if (argv.dryRun || argv.yes) throw usage('dead list changes nothing: no --dry-run or --yes');
  } else {
    if (ids !== undefined && argv.all) throw usage('give --id or --all, not both');
    if (ids === undefined && !argv.all)
      throw usage(`dead ${argv.action} needs --id ID (one or more) or --all`);
    if (argv.json) throw usage('--json is for dead list');
    if (argv.action === 'requeue' && argv.yes)
      throw usage('dead requeue asks nothing (nothing is lost): no --yes');
  }
  return {
    action: argv.action,
    type: argv.type,
    ids,
    limit: argv.limit ?? (argv.action === 'list' ? DEFAULT_LIST_LIMIT : Number.POSITIVE_INFINITY),
    dryRun: argv.dryRun,
    yes: argv.yes,
    json: argv.json,
  };
}

/** The queue a request is about: `worker_<type>.dead`, or `<input>.invalid`. */
export function parkedQueue(request: Pick<DeadRequest, 'type'>, inputQueue: string): string {
  return request.type === undefined ? invalidQueue(inputQueue) : deadQueue(request.type);
}
