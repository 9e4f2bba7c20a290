/**
 * The publisher and collector both systems get: tasks go to `taskqueue` pipelined on a confirm
 * channel, at most `window` in flight (published, result not yet back); results are read from
 * `results`, de-duplicated by `seq` (delivery is at-least-once) and timed from publish to result.
 * A task whose result does not come is an error, never a figure.
 */
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { connect, RESULTS_QUEUE } from './amqp.js';
import { type ResultFields, resultFields, taskFactory } from './workitem.js';

/**
 * How the tasks reach a system and its results come back: AMQP for the ceiling, taskqueue, the
 * one-hop limit and Celery (which frame a task their own way), Redis for BullMQ
 * (anchors/bullmq-transport.ts). The window, the de-duplication and the timing are the run's,
 * the same for all.
 */
export interface Transport {
  /**
   * Sends one task; `confirmed` is called once the system holds it (the broker's confirm, Redis's
   * reply), with an error if it refused it. False: wait for `onDrain` before sending more.
   */
  send(id: string, body: Buffer, spec: LoadSpec, confirmed: Confirmed): boolean;
  onDrain(resume: () => void): void;
  /** While a run goes: each result's run and seq, and a failure the transport saw (a return). */
  listen(handlers: ResultHandlers | undefined): void;
  /** Resolves (with the reason) when the connection is gone. */
  closed: Promise<Error>;
  close(): Promise<void>;
}

export type Confirmed = (err: unknown) => void;

export interface ResultHandlers {
  result(fields: ResultFields): void;
  fail(err: Error): void;
}

/** What the AMQP publisher changes per system: the frame of a task, the frame of a result. */
export interface AmqpFraming {
  task(id: string, body: Buffer): { content: Buffer; properties: Options.Publish };
  result(body: Buffer): ResultFields;
}

/** Ruote workitems as `taskqueue submit` sends them; the result is the workitem itself. */
export const RUOTE_FRAMING: AmqpFraming = {
  task: (id, body) => ({
    content: body,
    properties: {
      persistent: true,
      contentType: 'application/json',
      messageId: id,
      correlationId: id,
    },
  }),
  result: resultFields,
};

export interface LoadSpec {
  /** Tags the tasks; results of any other run are ignored. */
  run: string;
  count: number;
  window: number;
  payloadBytes: number;
  /** Where the tasks go: `taskqueue`, or a worker queue to bypass the dispatcher and the relay. */
  queue: string;
  /**
   * Published to this exchange with this routing key instead, mandatory (the direct path and the
   * one-hop limit): a returned task fails the run.
   */
  route?: { exchange: string; routingKey: string };
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

/** AMQP: a confirm channel to publish, a channel consuming `results` without acks. */
export class AmqpTransport implements Transport {
  #model: ChannelModel;
  #publish: ConfirmChannel;
  #framing: AmqpFraming;
  #handlers: ResultHandlers | undefined;
  readonly closed: Promise<Error>;

  private constructor(
    model: ChannelModel,
    publish: ConfirmChannel,
    collect: Channel,
    framing: AmqpFraming,
  ) {
    this.#model = model;
    this.#publish = publish;
    this.#framing = framing;
    this.closed = new Promise((resolve) => {
      model.once('close', (err?: Error) => resolve(err ?? new Error('load connection closed')));
      for (const channel of [publish, collect]) {
        channel.once('close', () => resolve(new Error('load channel closed')));
        channel.on('error', () => {});
      }
      model.on('error', () => {});
    });
    // Mandatory publishes (route): a task no queue took comes back; it would never be answered.
    publish.on('return', (message: ConsumeMessage) =>
      this.#handlers?.fail(
        new Error(`a task was returned unrouted (${message.fields.routingKey}): no queue took it`),
      ),
    );
  }

  /** Connects and consumes results; the results queue must exist. */
  static async open(url: string, framing: AmqpFraming = RUOTE_FRAMING): Promise<AmqpTransport> {
    const model = await connect(url, 'bench-load');
    const publish = await model.createConfirmChannel();
    const collect = await model.createChannel();
    const transport = new AmqpTransport(model, publish, collect, framing);
    // noAck: the collector must never be the bottleneck, and a lost result shows as missing.
    await collect.consume(
      RESULTS_QUEUE,
      (message) => message && transport.#onMessage(message.content),
      { noAck: true },
    );
    return transport;
  }

  #onMessage(content: Buffer): void {
    const handlers = this.#handlers;
    if (!handlers) return;
    let fields: ResultFields;
    try {
      fields = this.#framing.result(content);
    } catch {
      handlers.fail(new Error(`a result is not JSON: ${content.subarray(0, 80)}`));
      return;
    }
    handlers.result(fields);
  }

  send(id: string, body: Buffer, spec: LoadSpec, confirmed: Confirmed): boolean {
    const { content, properties } = this.#framing.task(id, body);
    const route = spec.route;
    return route
      ? this.#publish.publish(
          route.exchange,
          route.routingKey,
          content,
          { ...properties, mandatory: true },
          confirmed,
        )
      : this.#publish.publish('', spec.queue, content, properties, confirmed);
  }

  onDrain(resume: () => void): void {
    this.#publish.once('drain', resume);
  }

  listen(handlers: ResultHandlers | undefined): void {
    this.#handlers = handlers;
  }

  async close(): Promise<void> {
    await this.#model.close().catch(() => {});
  }
}

export class Load {
  #transport: Transport;
  /** Ends the run in progress, if any. */
  #endRun: ((err: Error) => void) | undefined;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** The AMQP load of the ceiling and taskqueue; the results queue must exist. */
  static async open(url: string, framing: AmqpFraming = RUOTE_FRAMING): Promise<Load> {
    return new Load(await AmqpTransport.open(url, framing));
  }

  async close(): Promise<void> {
    // A run still going (the system failed, or Ctrl-C) ends first: its pacing timer must not
    // publish on a connection that is closing.
    this.#endRun?.(new Error('load closed'));
    await this.#transport.close();
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
        this.#transport.listen(undefined);
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
        const ok = this.#transport.send(id, makeTask(seq), spec, (err) => {
          if (err) finish(new Error(`the system refused task ${seq}: ${err}`));
        });
        if (!ok) {
          blocked = true;
          this.#transport.onDrain(() => {
            blocked = false;
            pump();
          });
        }
      };

      const onResult = (fields: ResultFields) => {
        const now = performance.now();
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
      this.#transport.listen({ result: onResult, fail: (err) => finish(err) });
      void this.#transport.closed.then((err) => finish(missing(err.message)));
      this.#endRun = (err) => finish(err);

      t0 = performance.now();
      lastProgress = t0;
      pump();
    });
  }
}
