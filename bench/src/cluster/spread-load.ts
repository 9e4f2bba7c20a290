/**
 * load.ts spread over the nodes of a cluster: the same tasks (workitem.ts), persistent, on confirm
 * channels, at most `window` in flight in total, results de-duplicated by `seq` and timed from
 * publish to result; but task i goes through node i mod N, and `results` is consumed on every
 * node. load.ts itself cannot be used N times: its collector would compete for the one `results`
 * queue with the others and drop their runs' results as strays.
 */
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { connect, RESULTS_QUEUE } from '../amqp.js';
import { percentile } from '../stats.js';
import { resultFields, taskFactory } from '../workitem.js';

/** Where the tasks go: an exchange ('' is the default one) and a routing key. */
export interface Target {
  exchange: string;
  routingKey: string;
}

export interface SpreadSpec {
  run: string;
  count: number;
  window: number;
  payloadBytes: number;
  target: Target;
  stallMs: number;
}

export interface SpreadResult {
  tasksPerSec: number;
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
  duplicates: number;
}

interface Link {
  model: ChannelModel;
  publish: ConfirmChannel;
  collect: Channel;
  blocked: boolean;
}

export class SpreadLoad {
  readonly #links: Link[];
  #onResult: ((message: ConsumeMessage) => void) | undefined;
  #fail: ((err: Error) => void) | undefined;

  private constructor(links: Link[]) {
    this.#links = links;
    for (const link of links) {
      link.model.on('error', () => {});
      link.model.once('close', () => this.#fail?.(new Error('a load connection closed')));
      // mandatory: a task no queue takes must fail the run, not vanish.
      link.publish.on('return', () => this.#fail?.(new Error('a task was returned unroutable')));
    }
  }

  /** One connection per node URL; each consumes `results` (which must exist). */
  static async open(urls: string[]): Promise<SpreadLoad> {
    const links: Link[] = [];
    try {
      for (const url of urls) {
        const model = await connect(url, 'bench-cluster-load');
        links.push({
          model,
          publish: await model.createConfirmChannel(),
          collect: await model.createChannel(),
          blocked: false,
        });
      }
    } catch (err) {
      await Promise.all(links.map((l) => l.model.close().catch(() => {})));
      throw err;
    }
    const load = new SpreadLoad(links);
    for (const link of links) {
      // noAck as load.ts: the collector must never be the bottleneck.
      await link.collect.consume(RESULTS_QUEUE, (m) => m && load.#onResult?.(m), { noAck: true });
    }
    return load;
  }

  async close(): Promise<void> {
    this.#fail?.(new Error('load closed'));
    await Promise.all(this.#links.map((l) => l.model.close().catch(() => {})));
  }

  run(spec: SpreadSpec): Promise<SpreadResult> {
    const { count, window, target } = spec;
    const makeTask = taskFactory(spec.run, spec.payloadBytes, count);
    const sentAt = new Float64Array(count);
    const seen = new Uint8Array(count);
    const latencies = new Float64Array(count);
    const links = this.#links;
    let next = 0;
    let done = 0;
    let inFlight = 0;
    let duplicates = 0;
    let t0 = 0;
    let lastProgress = 0;

    return new Promise<SpreadResult>((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearInterval(watchdog);
        this.#onResult = undefined;
        this.#fail = undefined;
        if (err) return reject(err);
        const elapsedMs = performance.now() - t0;
        const sorted = latencies.sort();
        resolve({
          tasksPerSec: (count * 1000) / elapsedMs,
          elapsedMs,
          p50Ms: percentile(sorted, 50),
          p99Ms: percentile(sorted, 99),
          duplicates,
        });
      };
      const pump = () => {
        // Bounded by `count`; a blocked connection pauses the whole spread until it drains.
        while (!settled && next < count && inFlight < window) {
          const seq = next;
          const link = links[seq % links.length]!;
          if (link.blocked) return;
          next++;
          inFlight++;
          sentAt[seq] = performance.now();
          const id = `${spec.run}-${seq}`;
          const ok = link.publish.publish(
            target.exchange,
            target.routingKey,
            makeTask(seq),
            {
              persistent: true,
              mandatory: true,
              contentType: 'application/json',
              messageId: id,
              correlationId: id,
            },
            (err) => {
              if (err) finish(new Error(`the broker refused task ${seq}: ${err}`));
            },
          );
          if (!ok) {
            link.blocked = true;
            link.publish.once('drain', () => {
              link.blocked = false;
              pump();
            });
          }
        }
      };
      this.#fail = (err) => finish(err);
      this.#onResult = (message) => {
        let fields: ReturnType<typeof resultFields>;
        try {
          fields = resultFields(message.content);
        } catch {
          return finish(new Error(`a result is not JSON: ${message.content.subarray(0, 80)}`));
        }
        const seq = fields.seq;
        if (fields.run !== spec.run || typeof seq !== 'number' || !(seq >= 0 && seq < count))
          return;
        if (seen[seq]) {
          duplicates++;
          return;
        }
        seen[seq] = 1;
        const now = performance.now();
        latencies[done++] = now - sentAt[seq]!;
        inFlight--;
        lastProgress = now;
        if (done === count) finish();
        else pump();
      };
      const watchdog = setInterval(() => {
        if (performance.now() - lastProgress > spec.stallMs)
          finish(
            new Error(`no result for ${spec.stallMs} ms: ${count - done} of ${count} missing`),
          );
      }, 250);
      t0 = performance.now();
      lastProgress = t0;
      pump();
    });
  }
}
