/**
 * The frame every chaos scenario runs in. A scenario is one small file that starts a broker and
 * programs through the harness, sends numbered tasks, injects faults in bounded loops and then
 * calls `settle()`. The harness counts every task, checks that nothing is left pending, stops
 * every process it started (also on failure, time limit and Ctrl-C) and makes the table row.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type ConsumeMessage } from 'amqplib';
import { CANCELS_STREAM } from '../../../src/common/amqp/queues.js';
import { ChaosBroker, type QueueRow } from './broker.js';
import { Collector, type CollectorOptions } from './collector.js';
import { Fleet, type FleetConfig } from './fleet.js';
import { Publisher, type PublisherOptions } from './publisher.js';
import type { Outgoing } from './tasks.js';
import { errorText, Random, say, sleep, waitUntil, within } from './util.js';

export interface Scenario {
  /** The row's name, e.g. `a-kill-children`; its first letter selects it on the command line. */
  name: string;
  /** What it does, in one line (shown in progress output). */
  title: string;
  /** Bound of the scenario's run, settling included (cleanup has bounds of its own). */
  limitMs: number;
  run(h: Harness): Promise<void>;
}

/** One row of the table. */
export interface Row {
  scenario: string;
  sent: number;
  received: number;
  duplicates: number;
  lost: number;
  faults: number;
  seconds: number;
  failures: string[];
}

export const TABLE_HEADER = 'scenario sent received duplicates lost faults seconds';

export function formatRow(row: Row): string {
  return [
    row.scenario,
    row.sent,
    row.received,
    row.duplicates,
    row.lost,
    row.faults,
    row.seconds.toFixed(1),
  ].join(' ');
}

/** Queues where a task may rest for good (answered otherwise or parked with a reason). */
const TERMINAL_QUEUE = /\.dead$/;
/**
 * A stream is a log its readers keep (the cancels, with each child's catch-up mark), not work
 * waiting: its messages stay for the stream's age whatever happened.
 */
const LOG_QUEUE = new Set([CANCELS_STREAM]);

export interface SettleOptions {
  /** Give up when no new task arrived for this long (default 30 s). */
  quietMs?: number;
  /** Give up after this long in any case (default 180 s). */
  maxMs?: number;
}

export class Harness {
  readonly name: string;
  readonly seed: number;
  readonly random: Random;
  /** Faults injected (kills, stops, fuzzed inputs: what the scenario counts as one). */
  faults = 0;
  /**
   * The row's `sent` and `lost` for a scenario that sends without `publish()` (through the API):
   * it counts and checks them itself, and says so here.
   */
  tally: { sent: number; lost: number } | undefined;
  readonly failures: string[] = [];
  readonly notes: string[] = [];
  readonly #controller = new AbortController();
  readonly #brokers: ChaosBroker[] = [];
  readonly #fleets: Fleet[] = [];
  #publisher: Publisher | undefined;
  #collector: Collector | undefined;
  #settled = false;
  #lastQueues: QueueRow[] | undefined;
  /** The programs' logs (and, when it fails, the nodes' logs); removed when it passes. */
  readonly logDir: string;

  constructor(name: string, seed: number) {
    this.name = name;
    this.seed = seed;
    this.random = new Random(seed);
    this.logDir = join(tmpdir(), `tq-chaos-${process.pid}`, name);
    mkdirSync(this.logDir, { recursive: true });
  }

  /** Aborts when the scenario's time is up or on Ctrl-C: every loop and wait ends then. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  abort(reason: string): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(new Error(reason));
  }

  say = (text: string): void => say(this.name, text);

  /** Marks the scenario failed, with the reason shown under its row. */
  fail(reason: string): void {
    this.failures.push(reason);
  }

  /** A diagnostic shown under the row (stderr), without failing the scenario. */
  note(text: string): void {
    this.notes.push(text);
  }

  // --- what a scenario starts -----------------------------------------------------------------

  /** A private broker: one node, or a cluster of `size` nodes. Destroyed at the end. */
  async broker(size = 1): Promise<ChaosBroker> {
    const broker = await ChaosBroker.start(size, this.say);
    this.#brokers.push(broker);
    return broker;
  }

  /** A config for the programs and the means to start, kill and stop them. */
  fleet(config: FleetConfig): Fleet {
    const fleet = new Fleet(config, this.logDir, this.say);
    this.#fleets.push(fleet);
    return fleet;
  }

  /** Starts consuming `results` and `taskqueue.invalid`; counts every task that arrives. */
  async collect(
    urls: string[],
    options: Partial<Pick<CollectorOptions, 'queues' | 'onFirst' | 'numberOf'>> = {},
  ): Promise<Collector> {
    const collector = new Collector({
      urls,
      queues: options.queues ?? ['results', 'taskqueue.invalid'],
      signal: this.signal,
      say: this.say,
      ...(options.onFirst ? { onFirst: options.onFirst } : {}),
      ...(options.numberOf ? { numberOf: options.numberOf } : {}),
    });
    this.#collector = collector;
    await within(collector.start(), 120_000, 'the collector could not start consuming');
    return collector;
  }

  /** Starts publishing `tasks` to `taskqueue` (numbers 0 … length-1) with confirms. */
  publish(
    urls: string[],
    tasks: Outgoing[],
    options: Partial<
      Pick<PublisherOptions, 'ratePerSecond' | 'window' | 'windowBytes' | 'gate'>
    > = {},
  ): Publisher {
    const publisher = new Publisher({
      urls,
      deadlineMs: 300_000,
      signal: this.signal,
      say: this.say,
      ...options,
    });
    this.#publisher = publisher;
    publisher.start(tasks);
    this.say(`publishing ${tasks.length} tasks`);
    return publisher;
  }

  // --- faults ---------------------------------------------------------------------------------

  /**
   * Runs `inject` every `everyMs` until `until()` holds, `max` injections were made, `maxMs`
   * passed or the scenario aborted. Each injection that does not return false counts as a fault;
   * one that throws is noted and the loop goes on.
   */
  async repeat(
    what: string,
    options: { everyMs: number; max: number; maxMs: number; until?: () => boolean },
    inject: (i: number) => Promise<boolean | undefined> | boolean | undefined,
  ): Promise<number> {
    const deadline = Date.now() + options.maxMs;
    let made = 0;
    for (let i = 0; i < options.max; i++) {
      if (this.signal.aborted || Date.now() > deadline || options.until?.()) break;
      try {
        if ((await inject(i)) !== false) {
          made++;
          this.faults++;
        }
      } catch (err) {
        this.say(`${what} #${i} failed: ${errorText(err)}`);
      }
      await sleep(options.everyMs, this.signal);
    }
    this.say(`${what}: ${made} injected`);
    return made;
  }

  /** Waits (bounded) until `condition` holds; false when it did not in time. */
  waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
    return waitUntil(condition, { timeoutMs, intervalMs: 100, signal: this.signal });
  }

  /**
   * Up to `max` messages of `queue`, left in place (taken unacked, then handed back by closing
   * the channel): for diagnostics, e.g. what was parked on a dead queue.
   */
  browse(urls: string[], queue: string, max = 1000): Promise<ConsumeMessage[]> {
    return within(this.#browse(urls, queue, max), 30_000, `browsing ${queue}`);
  }

  async #browse(urls: string[], queue: string, max: number): Promise<ConsumeMessage[]> {
    const model = await amqp.connect(urls[0]!, { noDelay: true, timeout: 5_000 });
    model.on('error', () => {});
    try {
      const channel = await model.createChannel();
      channel.on('error', () => {});
      const messages: ConsumeMessage[] = [];
      for (let i = 0; i < max; i++) {
        const message = await channel.get(queue, { noAck: false });
        if (message === false) break;
        messages.push(message as unknown as ConsumeMessage);
      }
      return messages;
    } finally {
      await model.close().catch(() => {});
    }
  }

  // --- the end --------------------------------------------------------------------------------

  /**
   * Waits until every sent task arrived and no queue holds a task any more (duplicates may still
   * be on their way after the last first arrival), or until nothing new arrived for `quietMs`
   * (counted from this call at the earliest), or `maxMs`. Then checks what is left pending. Call
   * it last in a scenario.
   */
  async settle(options: SettleOptions = {}): Promise<void> {
    const quietMs = options.quietMs ?? 30_000;
    const maxMs = options.maxMs ?? 180_000;
    const publisher = this.#publisher;
    const collector = this.#collector;
    if (!publisher || !collector) throw new Error('settle() needs publish() and collect() first');
    const started = Date.now();
    const complete = await waitUntil(
      () => {
        const done = publisher.confirmed === publisher.total && this.#lost().length === 0;
        // Quiet counts from the end of the faults at the earliest: a broker that took long to
        // come back (23 s once, on a loaded machine) must not use up the time to recover.
        const progress = Math.max(collector.lastProgressAt, publisher.lastProgressAt, started);
        return done || Date.now() - progress > quietMs;
      },
      { timeoutMs: maxMs, intervalMs: 200, signal: this.signal },
    );
    const lost = this.#lost().length;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    this.say(
      `${collector.distinct}/${publisher.total} arrived; settled ${seconds} s after the faults` +
        (lost > 0 ? ` (${lost} missing${complete ? ', no progress' : ''})` : ''),
    );
    // All arrived: duplicates may still be in flight; wait (bounded) for the queues to drain.
    if (lost === 0) {
      await waitUntil(async () => (await this.#pendingRows()).length === 0, {
        timeoutMs: 30_000,
        intervalMs: 2_000,
        signal: this.signal,
      });
    }
    this.#settled = true;
  }

  /** Confirmed task numbers that never arrived. */
  #lost(): number[] {
    const publisher = this.#publisher;
    const collector = this.#collector;
    if (!publisher || !collector) return [];
    const lost: number[] = [];
    for (let n = 0; n < publisher.total; n++) {
      if (publisher.isConfirmed(n) && !collector.has(n)) lost.push(n);
    }
    return lost;
  }

  /** Queues holding messages that are not at rest (for a scenario without `publish()`). */
  pendingQueues(): Promise<QueueRow[]> {
    return this.#pendingRows();
  }

  /** Queues holding messages that are not at rest: everything but `*.dead` (list_queues). */
  async #pendingRows(): Promise<QueueRow[]> {
    const broker = this.#brokers[0];
    if (!broker) return [];
    try {
      this.#lastQueues = await within(broker.queues(), 90_000, 'list_queues');
    } catch (err) {
      this.say(`cannot list queues: ${errorText(err)}`);
      return [{ name: '(list_queues failed)', messages: 1, ready: 0, unacked: 0 }];
    }
    return this.#lastQueues.filter(
      (q) => q.messages > 0 && !TERMINAL_QUEUE.test(q.name) && !LOG_QUEUE.has(q.name),
    );
  }

  /** The row, after the final checks (call once, before cleanup()). */
  async finish(startedAt: number): Promise<Row> {
    const publisher = this.#publisher;
    const collector = this.#collector;
    if (!this.#settled && publisher && collector && !this.signal.aborted) {
      this.fail('the scenario ended without settle()');
    }
    const lostNumbers = this.#lost();
    if (publisher && collector) {
      const pending = await this.#pendingRows();
      if (pending.length > 0) {
        this.fail(
          `still pending: ${pending.map((q) => `${q.name} ${q.ready} ready + ${q.unacked} unacked`).join(', ')}`,
        );
      }
      const dead = (this.#lastQueues ?? []).filter((q) => TERMINAL_QUEUE.test(q.name));
      for (const q of dead.filter((d) => d.messages > 0)) {
        this.note(`${q.messages} message(s) parked in ${q.name}`);
      }
      for (const [n, why] of [...publisher.refused].slice(0, 3)) {
        this.fail(`task ${n} could not be published (test data): ${why}`);
      }
      const unconfirmed = publisher.unconfirmed();
      if (unconfirmed.length > 0) {
        this.fail(
          `${unconfirmed.length} task(s) never confirmed by the broker: ${sample(unconfirmed)}`,
        );
      }
      if (lostNumbers.length > 0) this.fail(`lost tasks: ${sample(lostNumbers)}`);
      if (collector.unnumbered > 0)
        this.fail(`${collector.unnumbered} message(s) without a task number arrived`);
      if (collector.errorResults.size > 0) {
        const [n, error] = [...collector.errorResults][0]!;
        this.note(
          `${collector.errorResults.size} error result(s), e.g. task ${n}: ${error.slice(0, 300)}`,
        );
      }
      if (collector.duplicates > 0) {
        this.note(`duplicates: ${sample(collector.duplicated().map(([n, c]) => `${n}×${c}`))}`);
      }
      if (publisher.republished > 0)
        this.note(`publisher re-sent ${publisher.republished} message(s)`);
    }
    for (const fleet of this.#fleets) for (const exit of fleet.unexpectedExits()) this.fail(exit);
    return {
      scenario: this.name,
      sent: publisher?.confirmed ?? this.tally?.sent ?? 0,
      received: collector?.distinct ?? 0,
      duplicates: collector?.duplicates ?? 0,
      lost: publisher ? lostNumbers.length : (this.tally?.lost ?? 0),
      faults: this.faults,
      seconds: (Date.now() - startedAt) / 1000,
      failures: this.failures,
    };
  }

  /** Stops everything this scenario started; keeps the logs when asked (it failed). Bounded. */
  async cleanup(keepLogs: boolean): Promise<string | undefined> {
    await within(
      this.#collector?.close() ?? Promise.resolve(),
      10_000,
      'closing the collector',
    ).catch(() => {});
    await within(
      this.#publisher?.close() ?? Promise.resolve(),
      10_000,
      'closing the publisher',
    ).catch(() => {});
    for (const fleet of this.#fleets) await fleet.stop().catch((err) => this.say(errorText(err)));
    for (const broker of this.#brokers) {
      if (keepLogs) await broker.saveLogs(this.logDir);
      await broker.destroy().catch((err) => this.say(errorText(err)));
    }
    if (keepLogs) return this.logDir;
    rmSync(this.logDir, { recursive: true, force: true });
    return undefined;
  }

  /** Ctrl-C twice: kill every program now (synchronous); the nodes' watchdogs do the rest. */
  killNow(): void {
    for (const fleet of this.#fleets) fleet.killStragglers();
    for (const broker of this.#brokers)
      for (const node of broker.nodes) node.signalServer('SIGTERM');
  }
}

function sample(items: Array<number | string>, max = 10): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} … (${items.length} in all)` : shown;
}

const RUN_GRACE_MS = 15_000;

/** Runs one scenario within its limit and returns its row; never throws. */
export async function runScenario(
  scenario: Scenario,
  seed: number,
  register: (h: Harness | undefined) => void,
): Promise<Row> {
  const startedAt = Date.now();
  const h = new Harness(scenario.name, seed);
  register(h);
  h.say(`${scenario.title} (seed ${seed})`);
  const limit = setTimeout(
    () => h.abort(`time limit of ${scenario.limitMs / 1000} s reached`),
    scenario.limitMs,
  );
  // A scenario stuck in a wait that does not watch the signal is left behind (its processes
  // are stopped all the same): the run goes on RUN_GRACE_MS after the abort.
  let aborted: () => void = () => {};
  const stuck = new Promise<'stuck'>((resolve) => {
    aborted = () => setTimeout(() => resolve('stuck'), RUN_GRACE_MS).unref();
  });
  h.signal.addEventListener('abort', aborted, { once: true });
  try {
    if ((await Promise.race([scenario.run(h), stuck])) === 'stuck') {
      h.fail(`the scenario did not end within ${RUN_GRACE_MS / 1000} s of its abort`);
    }
  } catch (err) {
    h.fail(`scenario error: ${errorText(err)}`);
  } finally {
    clearTimeout(limit);
  }
  if (h.signal.aborted) h.fail(errorText(h.signal.reason));
  let row: Row;
  try {
    row = await within(h.finish(startedAt), 120_000, 'final checks');
  } catch (err) {
    h.fail(errorText(err));
    row = {
      scenario: scenario.name,
      sent: 0,
      received: 0,
      duplicates: 0,
      lost: 0,
      faults: h.faults,
      seconds: 0,
      failures: h.failures,
    };
  }
  const keep = row.failures.length > 0 || process.env.CHAOS_KEEP_LOGS === '1';
  const logDir = await h.cleanup(keep).catch((err) => {
    h.say(`cleanup: ${errorText(err)}`);
    return h.logDir;
  });
  register(undefined);
  row.seconds = (Date.now() - startedAt) / 1000;
  for (const note of h.notes) h.say(`note: ${note}`);
  for (const failure of row.failures) h.say(`FAIL: ${failure}`);
  if (logDir) h.say(`logs kept in ${logDir}`);
  return row;
}
