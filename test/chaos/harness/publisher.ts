/**
 * Publishes numbered tasks to the input queue with publisher confirms, over the broker's URLs,
 * and keeps at it across broker outages: a task counts as sent once the broker confirmed it;
 * one whose confirm was lost with the connection is published again (at least once, so the
 * suite may see it twice). Bounded by a deadline and the scenario's signal.
 */
import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { type Outgoing, taskNumber } from './tasks.js';
import { errorText, sleep } from './util.js';

export interface PublisherOptions {
  urls: string[];
  queue?: string;
  /** First publishes per second (republishes are not paced); default: as fast as allowed. */
  ratePerSecond?: number;
  /**
   * Whether task `n` may be published for the first time now (default: always). Tasks go out in
   * order, so a gate that holds task n back holds every later one too: scenarios use it for
   * phases (e.g. an echo-only phase, then the bad types) within one numbering.
   */
  gate?: (n: number) => boolean;
  /** Unconfirmed messages at most (default 500) … */
  window?: number;
  /** … and unconfirmed bytes at most (default 16 MiB). */
  windowBytes?: number;
  deadlineMs: number;
  signal: AbortSignal;
  say: (line: string) => void;
}

/**
 * Sends of one task before it is given up, 200 ms apart after a nack: a minute, since a quorum
 * queue whose leader was on a stopped node nacks publishes until a new leader is elected (seen:
 * more than 7 s on this machine).
 */
const MAX_SENDS = 300;

interface InFlight {
  task: Outgoing;
  generation: number;
}

export class Publisher {
  readonly #options: PublisherOptions;
  readonly #queue: string;
  #tasks: Outgoing[] = [];
  /** Indexes into #tasks waiting to be published (again). */
  #todo: number[] = [];
  #next = 0;
  #confirmed: Uint8Array = new Uint8Array(0);
  #confirmedCount = 0;
  #inFlight = new Map<number, InFlight>();
  #inFlightBytes = 0;
  #returned = new Set<number>();
  #generation = 0;
  #model: ChannelModel | undefined;
  #channel: ConfirmChannel | undefined;
  #wake: (() => void) | undefined;
  /** Publishes repeated after a lost confirm, a nack or a return. */
  republished = 0;
  /** Tasks amqplib refused to encode, with why (they count as never confirmed). */
  readonly refused = new Map<number, string>();
  /** When the last task was confirmed (or publishing started). */
  lastProgressAt = Date.now();
  /** Connections opened (1 when the broker never went away). */
  connections = 0;
  #done: Promise<void> | undefined;
  #stopped = false;
  /** Publishes per task; past MAX_SENDS a task is given up (see refused). */
  #sends = new Map<number, number>();

  constructor(options: PublisherOptions) {
    this.#options = options;
    this.#queue = options.queue ?? 'taskqueue';
  }

  /** Tasks confirmed by the broker so far. */
  get confirmed(): number {
    return this.#confirmedCount;
  }

  get total(): number {
    return this.#tasks.length;
  }

  isConfirmed(n: number): boolean {
    return this.#confirmed[n] === 1;
  }

  /** Numbers never confirmed (the scenario fails if any remain). */
  unconfirmed(): number[] {
    return this.#tasks.filter((t) => this.#confirmed[t.n] !== 1).map((t) => t.n);
  }

  /** Starts publishing `tasks` (their `n` must be 0 … length-1); `done()` settles at the end. */
  start(tasks: Outgoing[]): void {
    this.#tasks = tasks;
    this.lastProgressAt = Date.now();
    this.#confirmed = new Uint8Array(tasks.length);
    this.#done = this.#run();
  }

  /** Resolves once every task is confirmed, or the deadline or the signal ended the attempt. */
  done(): Promise<void> {
    return this.#done ?? Promise.resolve();
  }

  async #run(): Promise<void> {
    const { deadlineMs, signal, ratePerSecond, gate } = this.#options;
    const window = this.#options.window ?? 500;
    const windowBytes = this.#options.windowBytes ?? 16 * 1024 * 1024;
    const deadline = Date.now() + deadlineMs;
    const startedAt = Date.now();
    try {
      // Every pass either publishes one message or waits at least a little: bounded by the
      // deadline, and by a generous count of passes.
      const maxPasses = this.#tasks.length * 50 + 1_000_000;
      for (let pass = 0; pass < maxPasses; pass++) {
        if (this.#confirmedCount + this.refused.size >= this.#tasks.length) return;
        if (this.#stopped || signal.aborted || Date.now() > deadline) return;
        const channel = this.#channel ?? (await this.#connect(deadline));
        if (!channel) continue;
        let index = this.#todo.shift();
        if (index === undefined && this.#next < this.#tasks.length) {
          const allowed =
            ratePerSecond === undefined
              ? Number.POSITIVE_INFINITY
              : ((Date.now() - startedAt) / 1000) * ratePerSecond;
          if (this.#next < allowed && (gate?.(this.#next) ?? true)) index = this.#next++;
        }
        const full = this.#inFlight.size >= window || this.#inFlightBytes >= windowBytes;
        if (index === undefined || full) {
          if (index !== undefined) this.#todo.unshift(index);
          await this.#idle(20);
          continue;
        }
        const ok = this.#publish(channel, index);
        if (!ok) await this.#idle(20); // amqplib's buffer is full: let the socket drain
      }
    } finally {
      await this.close();
    }
  }

  #publish(channel: ConfirmChannel, index: number): boolean {
    const task = this.#tasks[index]!;
    const sends = (this.#sends.get(task.n) ?? 0) + 1;
    this.#sends.set(task.n, sends);
    if (sends > MAX_SENDS) {
      // Each send ended in a lost channel or a nack: the broker will not take this message.
      this.refused.set(task.n, `no confirm after ${MAX_SENDS} sends`);
      this.#options.say(`task ${task.n} given up: no confirm after ${MAX_SENDS} sends`);
      return true;
    }
    const entry: InFlight = { task, generation: this.#generation };
    this.#inFlight.set(task.n, entry);
    this.#inFlightBytes += task.body.length;
    try {
      return channel.publish(
        '',
        task.queue ?? this.#queue,
        task.body,
        { ...task.options, mandatory: true },
        (err) => this.#settle(entry, err),
      );
    } catch (err) {
      if (/closed/i.test(errorText(err))) {
        this.#settle(entry, err); // the close handler sends it again
        return false;
      }
      // amqplib could not encode it (a test data bug): never retried; the frames it may have
      // written already leave the connection unusable, so start a fresh one.
      this.#inFlight.delete(task.n);
      this.#inFlightBytes -= task.body.length;
      this.refused.set(task.n, errorText(err));
      this.#options.say(`task ${task.n} cannot be published: ${errorText(err)}`);
      this.#lost(entry.generation);
      return false;
    }
  }

  #settle(entry: InFlight, err: unknown): void {
    const { n } = entry.task;
    if (this.#inFlight.get(n) !== entry) return; // already requeued after a lost connection
    this.#inFlight.delete(n);
    this.#inFlightBytes -= entry.task.body.length;
    if (err || this.#returned.delete(n)) {
      // Nacked, or no queue took it (the input queue not declared yet): again, a little later.
      this.republished++;
      setTimeout(() => {
        this.#todo.push(n);
        this.#wake?.();
      }, 200).unref();
    } else if (this.#confirmed[n] !== 1) {
      this.#confirmed[n] = 1;
      this.#confirmedCount++;
      this.lastProgressAt = Date.now();
    }
    this.#wake?.();
  }

  async #connect(deadline: number): Promise<ConfirmChannel | undefined> {
    const { urls, signal, say } = this.#options;
    for (let attempt = 0; attempt < 10_000; attempt++) {
      if (this.#stopped || signal.aborted || Date.now() > deadline) return undefined;
      const url = urls[(this.connections + attempt) % urls.length]!;
      try {
        const model = await amqp.connect(url, { noDelay: true, timeout: 5_000 });
        model.on('error', () => {});
        const channel = await model.createConfirmChannel();
        channel.on('error', () => {});
        channel.on('return', (message: ConsumeMessage) => {
          const n = taskNumber(message.properties);
          if (n !== undefined) this.#returned.add(n);
        });
        const generation = ++this.#generation;
        const lost = () => this.#lost(generation);
        model.once('close', lost);
        channel.once('close', lost);
        this.#model = model;
        this.#channel = channel;
        this.connections++;
        if (this.connections > 1) say(`publisher reconnected (${url.replace(/\/\/.*@/, '//')})`);
        return channel;
      } catch (err) {
        if (attempt % 10 === 0) say(`publisher cannot connect: ${errorText(err)}`);
        await sleep(Math.min(2_000, 200 * 2 ** Math.min(attempt, 4)), signal);
      }
    }
    return undefined;
  }

  #lost(generation: number): void {
    if (generation !== this.#generation || !this.#channel) return;
    const model = this.#model;
    this.#channel = undefined;
    this.#model = undefined;
    this.#generation++;
    model?.close().catch(() => {});
    // Whatever had no confirm yet may or may not be in the broker: publish it again.
    const lost = [...this.#inFlight.values()];
    this.#inFlight.clear();
    this.#inFlightBytes = 0;
    for (const entry of lost) this.#todo.push(entry.task.n);
    this.republished += lost.length;
    this.#options.say(
      `publisher lost its connection; ${lost.length} unconfirmed will be sent again`,
    );
    this.#wake?.();
  }

  #idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  /** Stops publishing (what is not confirmed stays so) and closes the connection. */
  async close(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    const model = this.#model;
    this.#generation++;
    this.#channel = undefined;
    this.#model = undefined;
    await model?.close().catch(() => {});
  }
}
