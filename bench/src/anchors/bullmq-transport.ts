/**
 * The BullMQ anchors' load: `Queue.add` (its reply is BullMQ's confirm: the job is in Redis, and
 * under `appendfsync always` on disk) and `QueueEvents` for the results (the `completed` event
 * carries the processor's return value: the workitem). The window, de-duplication and timing are
 * the same run as every system's (load.ts).
 */
import { Queue, QueueEvents } from 'bullmq';
import type { Confirmed, LoadSpec, ResultHandlers, Transport } from '../load.js';
import type { ResultFields } from '../workitem.js';
import { TYPE } from '../workitem.js';
import { BULL_QUEUE, redisConnection } from './bullmq-names.js';

/**
 * Events kept in the stream: well above what a run has in flight (some four events a job), so
 * that a collector a little behind never loses a `completed` to trimming. Memory only.
 */
const EVENTS_KEPT = 100_000;

/** The run and seq of a completed job's return value (the workitem). */
export function bullmqResult(returnvalue: unknown): ResultFields {
  const fields = (returnvalue as { fields?: ResultFields } | null)?.fields;
  return { run: fields?.run, seq: fields?.seq };
}

export class BullmqTransport implements Transport {
  #queue: Queue;
  #events: QueueEvents;
  #handlers: ResultHandlers | undefined;
  /** Redis's clients reconnect on their own; a stall shows as missing results. */
  readonly closed = new Promise<Error>(() => {});

  private constructor(queue: Queue, events: QueueEvents) {
    this.#queue = queue;
    this.#events = events;
    events.on('completed', ({ returnvalue }) => this.#handlers?.result(bullmqResult(returnvalue)));
    events.on('failed', ({ jobId, failedReason }) =>
      this.#handlers?.fail(new Error(`BullMQ job ${jobId} failed: ${failedReason}`)),
    );
  }

  static async open(port: number): Promise<BullmqTransport> {
    const connection = redisConnection(port);
    const queue = new Queue(BULL_QUEUE, {
      connection,
      streams: { events: { maxLen: EVENTS_KEPT } },
      // Kept nowhere once done, as a task acked by taskqueue: the result is in the event.
      defaultJobOptions: { removeOnComplete: true, removeOnFail: false },
    });
    // From the stream's start (a fresh Redis each run): no event before the first read is lost.
    const events = new QueueEvents(BULL_QUEUE, { connection, lastEventId: '0-0' });
    queue.on('error', () => {});
    events.on('error', () => {});
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return new BullmqTransport(queue, events);
  }

  send(_id: string, body: Buffer, _spec: LoadSpec, confirmed: Confirmed): boolean {
    // The job's data is the workitem as an object, as a BullMQ user adds it.
    this.#queue.add(TYPE, JSON.parse(body.toString('utf8'))).then(
      () => confirmed(undefined),
      (err: unknown) => confirmed(err),
    );
    return true;
  }

  onDrain(resume: () => void): void {
    setImmediate(resume);
  }

  listen(handlers: ResultHandlers | undefined): void {
    this.#handlers = handlers;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#events.close(), this.#queue.close()]);
  }
}
