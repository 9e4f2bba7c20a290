/**
 * Consumes the queues where tasks end (`results`, `taskqueue.invalid`) and counts by task
 * number: the first arrival of a number is a received task, every further one a duplicate
 * (at-least-once). Reconnects over the broker's URLs by itself.
 *
 * The collector acks what it counted. When its own connection drops before an ack landed, the
 * broker hands that message to it again, flagged redelivered and identical to the first copy
 * (same headers, same timestamp); such a copy is not counted as a duplicate.
 */
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { taskNumber } from './tasks.js';
import { errorText, sleep } from './util.js';

export interface Arrival {
  queue: string;
  message: ConsumeMessage;
}

export interface CollectorOptions {
  urls: string[];
  queues: string[];
  signal: AbortSignal;
  say: (line: string) => void;
  /** Called with the first arrival of each task number (for a scenario's own checks). */
  onFirst?: (n: number, arrival: Arrival) => void;
  /**
   * The task number a message carries (default: `chaos-<n>` in its ids, tasks.ts). Tasks
   * submitted through the API carry the id the API gave them: a scenario numbers those itself.
   */
  numberOf?: (properties: ConsumeMessage['properties']) => number | undefined;
}

export class Collector {
  readonly #options: CollectorOptions;
  /** Arrivals per task number. */
  readonly #count = new Map<number, number>();
  /** Where each task number first arrived. */
  readonly firstQueue = new Map<number, string>();
  readonly #fingerprints = new Set<string>();
  /** Messages without a task number (they should not exist). */
  unnumbered = 0;
  /** Copies of a message the collector had already counted (its own redeliveries). */
  ownRedeliveries = 0;
  /** Results that carry an error (`error` in the workitem). */
  readonly errorResults = new Map<number, string>();
  lastProgressAt = Date.now();
  #model: ChannelModel | undefined;
  #loop: Promise<void> | undefined;
  #closing = false;

  constructor(options: CollectorOptions) {
    this.#options = options;
  }

  get distinct(): number {
    return this.#count.size;
  }

  get duplicates(): number {
    let extra = 0;
    for (const c of this.#count.values()) extra += c - 1;
    return extra;
  }

  has(n: number): boolean {
    return this.#count.has(n);
  }

  /** Task numbers that arrived more than once, with their counts. */
  duplicated(): Array<[number, number]> {
    return [...this.#count].filter(([, c]) => c > 1);
  }

  /** Connects and starts consuming; resolves once the first connection consumes every queue. */
  async start(): Promise<void> {
    let ready!: () => void;
    const consuming = new Promise<void>((resolve) => {
      ready = resolve;
    });
    this.#loop = this.#run(ready);
    await Promise.race([consuming, this.#loop]);
  }

  async #run(ready: () => void): Promise<void> {
    const { urls, signal, say } = this.#options;
    // One pass per connection: bounded by the signal (every wait below ends on abort).
    for (let attempt = 0; attempt < 100_000 && !signal.aborted && !this.#closing; attempt++) {
      const url = urls[attempt % urls.length]!;
      let model: ChannelModel | undefined;
      try {
        model = await amqp.connect(url, { noDelay: true, timeout: 5_000 });
        let why = 'connection closed';
        model.on('error', (err: unknown) => {
          why = errorText(err);
        });
        this.#model = model;
        const closed = new Promise<void>((resolve) =>
          model!.once('close', () => {
            if (!this.#closing && !signal.aborted) say(`collector lost its connection: ${why}`);
            resolve();
          }),
        );
        const channel = await model.createChannel();
        channel.on('error', (err: unknown) => {
          why = `channel: ${errorText(err)}`;
        });
        channel.once('close', () => model!.close().catch(() => {}));
        await channel.prefetch(500);
        for (const queue of this.#options.queues) {
          await this.#waitForQueue(model, queue);
          await channel.consume(queue, (m) => m && this.#onMessage(channel, queue, m));
        }
        if (attempt > 0) say(`collector reconnected (${url.replace(/\/\/.*@/, '//')})`);
        ready();
        await Promise.race([closed, abortOf(signal)]);
      } catch (err) {
        if (attempt % 10 === 0 && !this.#closing)
          say(`collector cannot consume: ${errorText(err)}`);
      } finally {
        await model?.close().catch(() => {});
        this.#model = undefined;
      }
      await sleep(300, signal);
    }
  }

  /** A queue that a program declares may not exist yet: consuming it would close the channel. */
  async #waitForQueue(model: ChannelModel, queue: string): Promise<void> {
    for (let i = 0; i < 600 && !this.#options.signal.aborted; i++) {
      let probe: Channel | undefined;
      try {
        probe = await model.createChannel();
        probe.on('error', () => {});
        await probe.checkQueue(queue);
        await probe.close().catch(() => {});
        return;
      } catch {
        await sleep(200, this.#options.signal);
      }
    }
    throw new Error(`queue ${queue} never appeared`);
  }

  #onMessage(channel: Channel, queue: string, message: ConsumeMessage): void {
    try {
      this.#count1(channel, queue, message);
    } catch (err) {
      // A throw here would end up in amqplib and close the connection: report it instead.
      this.#options.say(`collector: cannot handle a message on ${queue}: ${errorText(err)}`);
    }
  }

  #count1(channel: Channel, queue: string, message: ConsumeMessage): void {
    const n = (this.#options.numberOf ?? taskNumber)(message.properties);
    const fingerprint = `${queue}\0${n}\0${message.properties.timestamp}\0${JSON.stringify(
      message.properties.headers ?? {},
    )}\0${message.content.length}`;
    try {
      channel.ack(message);
    } catch {
      // The channel is gone: the broker gives the message to the next connection again.
      return;
    }
    if (n === undefined) {
      this.unnumbered++;
      return;
    }
    if (message.fields.redelivered && this.#fingerprints.has(fingerprint)) {
      this.ownRedeliveries++;
      return;
    }
    this.#fingerprints.add(fingerprint);
    const seen = this.#count.get(n) ?? 0;
    this.#count.set(n, seen + 1);
    if (seen > 0) return;
    this.lastProgressAt = Date.now();
    this.firstQueue.set(n, queue);
    if (queue === 'results') {
      const error = resultError(message.content);
      if (error !== undefined) this.errorResults.set(n, error);
    }
    this.#options.onFirst?.(n, { queue, message });
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#model?.close().catch(() => {});
    await this.#loop?.catch(() => {});
  }
}

function resultError(content: Buffer): string | undefined {
  try {
    const body = JSON.parse(content.toString('utf8')) as { error?: unknown };
    return body.error === undefined ? undefined : String(body.error);
  } catch {
    return 'result is not JSON';
  }
}

function abortOf(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}
