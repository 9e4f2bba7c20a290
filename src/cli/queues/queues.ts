import type { ChannelModel } from 'amqplib';
import type { Config } from '../../common/config/types.js';
import { hasCode, type TqError } from '../../common/errors.js';
import { ExitStatus } from '../../common/exit.js';
import type { Logger } from '../../common/logger.js';
import type { ApiChoice } from '../api/target.js';
import { connectForCommand } from '../broker.js';
import { checkWorkerType } from '../worker-type-check.js';
import { groupDelayQueues } from './delayed.js';
import { soonestFromApi } from './delayed-from-api.js';
import { fetchQueues, managementRows, managementTarget } from './management.js';
import { knownQueues, queueNaming } from './our-queues.js';
import { PASSIVE_UNKNOWN, passiveRows } from './passive.js';
import { type QueuesReport, reportLines } from './queue-row.js';

export interface QueuesOptions {
  /** The management API's URL (`--management`); else `[amqp] management_url`; else the default. */
  management: string | undefined;
  /** Only passive declares, never the management API. */
  passive: boolean;
  /** Types to look at besides those of the config and the installed plugins. */
  types: string[];
  json: boolean;
  /** Where to ask for the delayed tasks due soonest (`--api`, `--token`, `--token-file`). */
  api?: ApiChoice;
}

/**
 * `taskqueue queues`: ready, unacked, consumers and rates of every queue of the system. With the
 * management API (asked first unless `--passive`): every queue of the vhost whose name is ours,
 * with all figures. Without it: a passive declare of each name the config and the installed
 * plugins let us know, which gives ready and consumers only; the output says which source was
 * used, why, and what it cannot tell. The delay ladder's level queues are one `delayed` row,
 * followed by the delayed tasks due soonest when an API answers (delayed-from-api.ts).
 */
export async function showQueues(
  config: Config,
  log: Logger,
  options: QueuesOptions,
  out: (line: string) => void,
): Promise<number> {
  // Side by side: an API that does not answer costs its timeout once, not after the broker's.
  const [report, asked] = await Promise.all([
    queuesReport(config, log, options),
    soonestFromApi(config, options.api ?? {}),
  ]);
  report.delayed.soonest = asked.soonest;
  report.delayed.soonest_note = asked.note;
  if (options.json) out(JSON.stringify(report));
  else for (const line of reportLines(report)) out(line);
  return ExitStatus.OK;
}

/** The report `taskqueue queues` prints, also GET /v1/queues's answer (src/api/routes/queues.ts). */
export async function queuesReport(
  config: Config,
  log: Logger,
  options: Omit<QueuesOptions, 'json'>,
): Promise<QueuesReport> {
  for (const type of options.types) checkWorkerType(type);
  const naming = queueNaming(config, options.types);
  const amqpUrl = config.amqp.urls[0] ?? 'amqp://localhost';
  let managementError: TqError | undefined;
  if (!options.passive) {
    const target = managementTarget(options.management ?? config.amqp.managementUrl, amqpUrl);
    try {
      const { rows, delayed } = groupDelayQueues(managementRows(await fetchQueues(target), naming));
      return {
        source: 'management',
        management_url: target.base,
        management_error: null,
        unknown: [],
        queues: rows,
        delayed,
      };
    } catch (err) {
      if (!hasCode(err, 'TQ_ERR_MANAGEMENT_API')) throw err;
      managementError = err as TqError;
    }
  }
  let model: ChannelModel | undefined;
  const { connection } = await connectForCommand(
    config,
    log,
    'taskqueue-queues',
    async (_ch, m) => {
      model = m;
    },
  );
  try {
    const { rows, delayed } = groupDelayQueues(await passiveRows(model!, knownQueues(naming)));
    return {
      source: 'passive',
      management_url: null,
      management_error: managementError
        ? { code: managementError.code, message: managementError.message }
        : null,
      unknown: PASSIVE_UNKNOWN,
      queues: rows,
      delayed,
    };
  } finally {
    await connection.close();
  }
}
