import type { Config } from '../../common/config/types.js';
import { ExitStatus } from '../../common/exit.js';
import type { Logger } from '../../common/logger.js';
import { type DeadRequest, parkedQueue } from './args.js';
import { openParkedQueue } from './parked-queue.js';
import { describeParked, isNamed, type ParkedTask, parkedLines } from './parked-task.js';
import { mustHoldAll, walkQueue } from './walk.js';

/**
 * `taskqueue dead list`: the parked tasks of one queue, oldest first, without taking them. Each
 * is read unacked and held until the connection closes, when the broker puts every one back in
 * its place: the queue's count and order are as before (classic queues; a quorum queue counts
 * each look as a delivery, docs/dead-letters.md). `--json`: one JSON document.
 */
export async function listParked(
  config: Config,
  log: Logger,
  request: DeadRequest,
  out: (line: string) => void,
): Promise<number> {
  const { queue, total, tasks } = await readParked(config, log, request);
  if (request.json) {
    out(JSON.stringify({ queue, total, shown: tasks.length, tasks }));
    return ExitStatus.OK;
  }
  const shown = tasks.length === total ? '' : `, ${tasks.length} shown`;
  out(`${queue}: ${total ?? 'an unknown number of'} parked${shown}`);
  tasks.forEach((task, i) => {
    for (const line of parkedLines(task, i + 1)) out(line);
  });
  return ExitStatus.OK;
}

/** What `dead list` shows: also GET /v1/dead/:type's answer (src/api/routes/dead.ts). */
export async function readParked(
  config: Config,
  log: Logger,
  request: Pick<DeadRequest, 'type' | 'ids' | 'limit'>,
): Promise<{ queue: string; total: number | null; tasks: ParkedTask[] }> {
  const queue = parkedQueue(request, config.dispatcher.queue);
  const { connection, channel, count } = await openParkedQueue(config, log, queue);
  const tasks: ParkedTask[] = [];
  const holdAll = mustHoldAll(config.amqp.queueType);
  try {
    await walkQueue(channel, queue, (message) => {
      if (tasks.length >= request.limit) return holdAll;
      if (request.ids && !request.ids.some((id) => isNamed(message.properties, id))) return true;
      tasks.push(describeParked(message, request.type));
      return holdAll || tasks.length < request.limit;
    });
  } finally {
    await connection.close();
  }
  return { queue, total: count ?? null, tasks };
}
