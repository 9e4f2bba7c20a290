import { randomUUID } from 'node:crypto';
import type { Workitem } from '@taskqueue/plugin-api';
import type { Options } from 'amqplib';
import { declareQueue, workerQueue } from '../common/amqp/queues.js';
import { DIRECT_REPLY_TO } from '../common/amqp/wire.js';
import type { Config } from '../common/config/types.js';
import { TqError } from '../common/errors.js';
import { ExitStatus } from '../common/exit.js';
import { DirectSubmitter } from '../common/forward/direct-submitter.js';
import type { Logger } from '../common/logger.js';
import { connectForCommand } from './broker.js';
import { publishWithRetry, withRetry } from './publish-with-retry.js';
import { inspectQueue, type QueueLook } from './queue-state.js';
import {
  type ScheduleOptions,
  scheduleFromOptions,
  scheduleProperties,
  waitsLine,
} from './schedule-options.js';
import { waitingHints } from './serving-hint.js';
import { readFields } from './stdin-fields.js';
import { checkWorkerType } from './worker-type-check.js';

export interface SubmitOptions {
  type: string;
  /** JSON fields, or `-` for stdin; empty for no fields. */
  fields: string | undefined;
  wait: boolean;
  /** Counted from when the task is due (a delayed task's wait is added to it). */
  timeoutSeconds: number;
  /** --priority, --delay, --at, --ttl as typed. */
  schedule?: ScheduleOptions;
  /** --via-dispatcher: to the input queue even when `[dispatcher] direct_path` is on. */
  viaDispatcher?: boolean;
}

/** Wraps fields in a Ruote workitem for `type` (SPEC §4). */
export function buildWorkitem(type: string, fieldsJson: string | undefined): Workitem {
  // Refused here rather than parked by the dispatcher: the user is there to read why.
  checkWorkerType(type);
  let fields: Record<string, unknown> = {};
  if (fieldsJson !== undefined && fieldsJson.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fieldsJson);
    } catch (err) {
      throw new TqError('TQ_ERR_CLI_USAGE', `fields are not JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new TqError('TQ_ERR_CLI_USAGE', 'fields must be a JSON object');
    }
    fields = parsed as Record<string, unknown>;
  }
  const params = typeof fields.params === 'object' && fields.params !== null ? fields.params : {};
  return { fields: { ...fields, params: { ...params, worker_type: type } } };
}

/**
 * Publishes one task, direct to its type's queue (docs/direct-path.md) unless `[dispatcher]
 * direct_path = no` or --via-dispatcher sends it to the input queue, and waits for the broker's
 * confirm; with `wait`, prints
 * the result that comes back through direct reply-to. Warns on stderr when no dispatcher or no
 * worker would take the task now. Returns the exit status.
 */
export async function submit(config: Config, log: Logger, options: SubmitOptions): Promise<number> {
  checkWorkerType(options.type); // before stdin is read: a wrong TYPE is said at once
  // Checked before stdin is read and the broker reached: a wrong option is said at once. The
  // times are absolute from here on (the headers carry them), so they are taken at this now.
  const schedule = scheduleFromOptions(options.schedule ?? {}, Date.now());
  const waitMs = schedule.notBefore === undefined ? 0 : Date.parse(schedule.notBefore) - Date.now();
  const workitem = buildWorkitem(options.type, readFields(options.fields));
  const body = Buffer.from(JSON.stringify(workitem));
  const queue = config.dispatcher.queue;
  const direct =
    config.dispatcher.directPath && !options.viaDispatcher
      ? new DirectSubmitter(config)
      : undefined;
  // Refused before the broker is reached: what the dispatcher would park, the user reads now.
  direct?.check(options.type, body.length);
  let input: QueueLook = 'unknown';
  let worker: QueueLook = 'unknown';
  const { connection, channel } = await connectForCommand(
    config,
    log,
    'taskqueue-submit',
    async (ch, model) => {
      if (direct) await direct.setup(ch, model);
      else await declareQueue(ch, queue, config.amqp.queueType);
      input = await inspectQueue(model, queue);
      worker = await inspectQueue(model, workerQueue(options.type));
    },
  );
  try {
    // Direct, a task for an existing worker queue never passes the input queue.
    const passesInput = !direct || (worker as QueueLook) === 'missing';
    const hints = waitingHints(
      options.type,
      { name: queue, look: passesInput ? input : 'unknown' },
      worker,
    );
    for (const hint of hints) process.stderr.write(`taskqueue: warning: ${hint}\n`);
    const id = randomUUID();
    let result: Promise<Buffer> | undefined;
    if (options.wait) {
      let resolveResult: (body: Buffer) => void = () => {};
      result = new Promise<Buffer>((resolve, reject) => {
        resolveResult = resolve;
        setTimeout(
          () =>
            reject(
              new TqError(
                'TQ_ERR_CLI_TIMEOUT',
                `no result for task ${id} within ${options.timeoutSeconds} s` +
                  hints.map((hint) => `; when it was submitted, ${hint}`).join(''),
                { details: { taskId: id, hints } },
              ),
            ),
          options.timeoutSeconds * 1000 + Math.max(0, waitMs),
        ).unref();
      });
      // Direct reply-to needs the consumer in place before the publish names it.
      await channel.consume(
        DIRECT_REPLY_TO,
        (message) => {
          if (message?.properties.correlationId === id) resolveResult(message.content);
        },
        { noAck: true },
      );
    }
    const properties: Options.Publish = {
      persistent: true,
      contentType: 'application/json',
      messageId: id,
      correlationId: id,
      timestamp: Math.floor(Date.now() / 1000),
      ...(options.wait ? { replyTo: DIRECT_REPLY_TO } : {}),
      ...scheduleProperties(schedule),
    };
    if (direct) {
      const task = { type: options.type, content: body, options: properties };
      await withRetry(connection, (ch) => direct.publish(ch, task));
    } else {
      await publishWithRetry(connection, queue, body, properties);
    }
    // On stderr: stdout stays the task id alone (or its result), which scripts read.
    if (schedule.notBefore !== undefined) {
      process.stderr.write(`taskqueue: ${waitsLine(id, schedule.notBefore, Date.now())}\n`);
    }
    if (!result) {
      process.stdout.write(`${id}\n`);
      return ExitStatus.OK;
    }
    const answer = await result;
    process.stdout.write(`${answer.toString('utf8')}\n`);
    return isErrorResult(answer) ? ExitStatus.FAILURE : ExitStatus.OK;
  } finally {
    await connection.close();
  }
}

function isErrorResult(body: Buffer): boolean {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: unknown };
    return parsed.error !== undefined;
  } catch {
    return false;
  }
}
