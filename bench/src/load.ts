/**
 * The publisher and collector both systems get: tasks go to `taskqueue` pipelined on a confirm
 * channel, at most `window` in flight (published, result not yet back); results are read from
 * `results`, de-duplicated by `seq` (delivery is at-least-once) and timed from publish to result.
 * A task whose result does not come is an error, never a figure.
 */
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { connect, RESULTS_QUEUE } from './amqp.js';
import { resultFields, taskFactory } from './workitem.js';

export interface LoadSpec {
  /** Tags the tasks; results of any other run are ignored. */
  run: string;
  count: number;
  window: number;
  payloadBytes: number;
  /** Where the tasks go: `taskqueue`, or a worker queue to bypass the dispatcher and the relay. */
  queue: string;
  /** Tasks per second, evenly spaced (the soak); undefined: as fast as the window allows. */
  ratePerSec?: number;
  /** No result for this long fails the run. */
  stallMs: number;
  /** The whole run may not take longer than this. */
  deadlineMs: number;
  /** Keep every latency for percentiles (off for a soak: millions of tasks). */
  keepLatencies: boolean;
  /** Called for each new result (the soak's per-interval figures). */
  onResult?: (latencyMs: number) => void;
}

export interface LoadResult {
  count: number;
  elapsedMs: number;
  tasksPerSec: number;
  /** Sorted; empty unless keepLatencies. */
  latenciesMs: Float64Array;
  duplicates: number;
  /** Results of other runs, or without a valid seq (there should be none). */
  strays: number;
  /** For a paced run: how far behind its schedule the publisher ended. */
  behindMs: number;
}

export class Load {
  #model: ChannelModel;
  #publish: ConfirmChannel;
  #onResult: ((message: ConsumeMessage) => void) | undefined;
  #closed: Promise<Error>;
  /** Ends the run in progress, if any. */
  #endRun: ((err: Error) => void) | undefined;

  private constructor(model: ChannelModel, publish: ConfirmChannel, collect: Channel) {
    this.#model = model;
    this.#publish = publish;
    this.#closed = new Promise((resolve) => {
      model.once('close', (err?: Error) => resolve(err ?? new Error('load connection closed')));
      for (const channel of [publish, collect]) {
        channel.once('close', () => resolve(new Error('load channel closed')));
        channel.on('error', () => {});
      }
      model.on('error', () => {});
    });
  }

  /** Connects and consumes results; the results queue must exist. */
  static async open(url: string): Promise<Load> {
    const model = await connect(url, 'bench-load');
    const publish = await model.createConfirmChannel();
    const collect = await model.createChannel();
    const load = new Load(model, publish, collect);
    // noAck: the collector must never be the bottleneck, and a lost result shows as missing.
    await collect.consume(RESULTS_QUEUE, (message) => message && load.#onResult?.(message), {
      noAck: true,
    });
    return load;
  }

  async close(): Promise<void> {
    // A run still going (the system failed, or Ctrl-C) ends first: its pacing timer must not
    // publish on a connection that is closing.
    this.#endRun?.(new Error('load closed'));
    await this.#model.close().catch(() => {});
  }

  run(spec: LoadSpec): Promise<LoadResult> {
    const { count, window, ratePerSec } = spec;
    const makeTask = taskFactory(spec.run, spec.payloadBytes, count);
    const sentAt = new Map<number, number>();
    const seen = new Uint8Array(count);
    const latencies = new Float64Array(spec.keepLatencies ? count : 0);
    let next = 0;
    let done = 0;
    let duplicates = 0;
    let strays = 0;
    let blocked = false;
    let pumping = false;
    let paceTimer: NodeJS.Timeout | undefined;
    let t0 = 0;
    let lastProgress = performance.now();

    return new Promise<LoadResult>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined) => {
        if (settled) return;
        settled = true;
        this.#endRun = undefined;
        clearInterval(watchdog);
        clearTimeout(paceTimer);
        this.#onResult = undefined;
        if (err) {
          reject(err);
          return;
        }
        const elapsedMs = performance.now() - t0;
        const due = ratePerSec ? ((count - 1) * 1000) / ratePerSec : 0;
        resolve({
          count,
          elapsedMs,
          tasksPerSec: (count * 1000) / elapsedMs,
          latenciesMs: latencies.sort(),
          duplicates,
          strays,
          behindMs: Math.max(0, elapsedMs - due),
        });
      };
      const missing = (why: string) =>
        new Error(
          `${why}: ${count - done} of ${count} results missing ` +
            `(${next} published, ${sentAt.size} in flight)`,
        );

      const pump = () => {
        if (pumping || settled) return;
        pumping = true;
        try {
          // Bounded by `count`: each pass publishes a new task or leaves.
          while (next < count && sentAt.size < window && !blocked) {
            if (ratePerSec && next > ((performance.now() - t0) * ratePerSec) / 1000) {
              // One pacing timer at a time: pump also runs on every result, and a timer armed
              // on each of them piled up (a soak's load process grew to 80 % CPU in 30 min).
              if (paceTimer === undefined) {
                const dueAt = t0 + (next * 1000) / ratePerSec;
                paceTimer = setTimeout(
                  () => {
                    paceTimer = undefined;
                    pump();
                  },
                  Math.max(1, dueAt - performance.now()),
                );
              }
              break;
            }
            publishOne(next++);
          }
        } finally {
          pumping = false;
        }
      };
      const publishOne = (seq: number) => {
        const id = `${spec.run}-${seq}`;
        sentAt.set(seq, performance.now());
        const options = {
          persistent: true,
          contentType: 'application/json',
          messageId: id,
          correlationId: id,
        };
        const ok = this.#publish.publish('', spec.queue, makeTask(seq), options, (err) => {
          if (err) finish(new Error(`the broker refused task ${seq}: ${err}`));
        });
        if (!ok) {
          blocked = true;
          this.#publish.once('drain', () => {
            blocked = false;
            pump();
          });
        }
      };

      this.#onResult = (message) => {
        const now = performance.now();
        let fields: ReturnType<typeof resultFields>;
        try {
          fields = resultFields(message.content);
        } catch {
          finish(new Error(`a result is not JSON: ${message.content.subarray(0, 80)}`));
          return;
        }
        if (fields.run !== spec.run) {
          strays++;
          return;
        }
        const seq = fields.seq;
        if (typeof seq !== 'number' || !(seq >= 0 && seq < count)) {
          strays++;
          return;
        }
        if (seen[seq]) {
          duplicates++;
          return;
        }
        seen[seq] = 1;
        const latency = now - (sentAt.get(seq) ?? now);
        sentAt.delete(seq);
        if (spec.keepLatencies) latencies[done] = latency;
        done++;
        lastProgress = now;
        spec.onResult?.(latency);
        if (done === count) finish(undefined);
        else pump();
      };

      const watchdog = setInterval(() => {
        const now = performance.now();
        if (now - lastProgress > spec.stallMs) finish(missing(`no result for ${spec.stallMs} ms`));
        else if (now - t0 > spec.deadlineMs)
          finish(missing(`run longer than ${spec.deadlineMs} ms`));
      }, 250);
      void this.#closed.then((err) => finish(missing(err.message)));
      this.#endRun = (err) => finish(err);

      t0 = performance.now();
      lastProgress = t0;
      pump();
    });
  }
}
