/**
 * Celery's message protocol 2 (docs.celeryq.dev, "Message Protocol"), spoken by the bench's own
 * load so that every system gets the same publisher (one confirm channel, a window in flight):
 * a Python client would measure apply_async's synchronous confirms, not the workers. The task's
 * one argument is the workitem; its result, published by Celery's `rpc://` backend to the
 * message's `reply_to` (the bench's `results` queue), carries the workitem back in `result`.
 */
import type { Options } from 'amqplib';
import { RESULTS_QUEUE } from '../amqp.js';
import type { AmqpFraming } from '../load.js';
import type { ResultFields } from '../workitem.js';

/** The task's name in celery_worker.py. */
export const CELERY_TASK = 'bench.echo';

/** Body: [args, kwargs, embed]; args = [workitem]. */
const OPEN = Buffer.from('[[');
const CLOSE = Buffer.from('],{},{"callbacks":null,"errbacks":null,"chain":null,"chord":null}]');

export function celeryTask(
  id: string,
  workitem: Buffer,
): { content: Buffer; properties: Options.Publish } {
  return {
    content: Buffer.concat([OPEN, workitem, CLOSE]),
    properties: {
      persistent: true,
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      correlationId: id,
      replyTo: RESULTS_QUEUE,
      headers: {
        lang: 'py',
        task: CELERY_TASK,
        id,
        root_id: id,
        parent_id: null,
        group: null,
        eta: null,
        expires: null,
        retries: 0,
        timelimit: [null, null],
        argsrepr: '(workitem,)',
        kwargsrepr: '{}',
        origin: 'bench-load',
      },
    },
  };
}

/** A result of the rpc backend: `{"status": "SUCCESS", "result": <workitem>, ...}`. */
export function celeryResult(body: Buffer): ResultFields {
  const meta = JSON.parse(body.toString('utf8')) as {
    status?: string;
    result?: { fields?: ResultFields };
  };
  // A failed task's result is its exception: no run, so it counts as a stray, and the missing
  // result fails the run.
  if (meta.status !== 'SUCCESS') return { run: undefined, seq: undefined };
  return { run: meta.result?.fields?.run, seq: meta.result?.fields?.seq };
}

export const CELERY_FRAMING: AmqpFraming = { task: celeryTask, result: celeryResult };
