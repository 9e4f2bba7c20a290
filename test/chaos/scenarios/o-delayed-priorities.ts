import { NOT_BEFORE_HEADER } from '../../../src/common/amqp/wire.js';
import type { Scenario } from '../harness/harness.js';
import { resultBody, some } from '../harness/results.js';
import { numberedTask, type Outgoing } from '../harness/tasks.js';

const LOW = 300;
const HIGH = 100;
const DELAYED = 300;
const TASKS = LOW + HIGH + DELAYED;
const WORKERS = 2;
/** Delayed tasks come due from this long after publishing, spread over DELAY_SPREAD_MS more. */
const DELAY_FROM_MS = 8_000;
const DELAY_SPREAD_MS = 17_000;
/** Of the first HIGH backlog tasks answered, at least this many must be high-priority ones. */
const HIGH_FIRST_AT_LEAST = 90;

/**
 * (o) Delayed and prioritised tasks under kills. A backlog of LOW tasks of priority 0 and then
 * HIGH of priority 9 waits on `worker_stamp` (max_priority = 9) before any child runs, and
 * DELAYED tasks wait in the broker's delay ladder (x-taskqueue-not-before 8–25 s ahead, mixed
 * priorities). Then the pool starts, the dispatcher is killed -9 for good (a delay needs no
 * process: the ladder delivers to `worker_stamp` itself) and a running child is killed every
 * second. Every task must be answered; the high-priority backlog first (the first HIGH answers
 * of the backlog hold at least HIGH_FIRST_AT_LEAST of them, allowing for the tasks in the hands of
 * the first children and of those killed); no delayed task may start before it was due.
 * faults = the kills.
 */
export const scenario: Scenario = {
  name: 'o-delayed-priorities',
  title: `${LOW + HIGH} prioritised and ${DELAYED} delayed tasks, dispatcher and children killed`,
  limitMs: 300_000,
  async run(h) {
    const broker = await h.broker();
    const fleet = h.fleet({
      urls: broker.urls,
      enabled: ['stamp'],
      sections:
        `[stamp]\nworkers = ${WORKERS}\nmax_priority = 9\nsleep_ms = 20\n` +
        // A kill is not the task's fault: enough crashes allowed that none is parked as poison.
        'max_crashes = 20\n',
    });
    const dispatcher = await fleet.dispatcher();
    const backlogOrder: number[] = [];
    const late: number[] = [];
    const early: string[] = [];
    const wrong: string[] = [];
    const start = Date.now();
    const due = new Map<number, number>();
    const tasks: Outgoing[] = [];
    for (let n = 0; n < TASKS; n++) {
      const task = numberedTask(n, 'stamp');
      if (n >= LOW && n < LOW + HIGH) task.options.priority = 9;
      if (n >= LOW + HIGH) {
        const at = start + DELAY_FROM_MS + Math.floor(h.random.next() * DELAY_SPREAD_MS);
        due.set(n, at);
        task.options.headers = { [NOT_BEFORE_HEADER]: new Date(at).toISOString() };
        if (n % 2 === 0) task.options.priority = 9;
      }
      tasks.push(task);
    }
    const publisher = h.publish(broker.urls, tasks);
    await h.waitFor(() => publisher.confirmed >= TASKS, 60_000);
    // The whole backlog on worker_stamp before a child takes any (the order is the queue's), and
    // every delayed task in the ladder (the input queue empty) before the dispatcher is killed.
    const forwarded = await h.waitFor(async () => {
      const queues = await broker.queues();
      const worker = queues.find((q) => q.name === 'worker_stamp');
      const input = queues.find((q) => q.name === 'taskqueue');
      return (
        (worker?.ready ?? 0) >= LOW + HIGH &&
        input !== undefined &&
        input.ready + input.unacked === 0
      );
    }, 60_000);
    if (!forwarded) h.fail('the dispatcher did not forward every task within 60 s');
    if (Date.now() - start > DELAY_FROM_MS)
      h.note('the backlog took longer to publish than the first delay: order check still valid');
    const pool = await fleet.pool('stamp', WORKERS);
    // Only now: `results` is declared by the pool. Results wait there in the order they were
    // published, so reading them later still gives the order the tasks were answered in.
    const collector = await h.collect(broker.urls, {
      onFirst: (n, { queue, message }) => {
        const body = resultBody(message);
        if (queue !== 'results' || !body || body.error !== undefined) {
          wrong.push(`task ${n} on ${queue}: ${body?.error ?? 'not a workitem'}`);
          return;
        }
        if (!due.has(n)) {
          backlogOrder.push(n);
          return;
        }
        const startedAt = Number(body.fields.started_at);
        const lateness = startedAt - due.get(n)!;
        if (!(lateness >= 0)) early.push(`task ${n} started ${-lateness} ms before due`);
        else late.push(lateness);
      },
    });
    await fleet.kill(dispatcher);
    h.faults++;
    h.say('killed the dispatcher for good: delayed tasks must come due without it');
    await h.repeat(
      'SIGKILL a random running stamp child',
      {
        everyMs: 1_000,
        max: 20,
        maxMs: 60_000,
        until: () => collector.distinct >= TASKS || Date.now() - collector.lastProgressAt > 30_000,
      },
      () => {
        const children = fleet.runningChildren(pool);
        if (children.length === 0) return false;
        process.kill(h.random.pick(children), 'SIGKILL');
        return true;
      },
    );
    await h.settle();
    if (wrong.length > 0) h.fail(`${wrong.length} wrong answer(s): ${some(wrong, 5)}`);
    if (early.length > 0) h.fail(`${early.length} delayed task(s) ran early: ${some(early, 5)}`);
    const highFirst = backlogOrder.slice(0, HIGH).filter((n) => n >= LOW).length;
    if (highFirst < HIGH_FIRST_AT_LEAST)
      h.fail(
        `${highFirst} of the first ${HIGH} backlog answers were high-priority, ` +
          `${HIGH_FIRST_AT_LEAST} at least expected`,
      );
    late.sort((a, b) => a - b);
    const at = (q: number) => late[Math.min(late.length - 1, Math.floor(late.length * q))] ?? 0;
    h.note(
      `priority: ${highFirst}/${HIGH} of the first backlog answers high; delayed tasks started ` +
        `${at(0.5)} ms (p50), ${at(0.99)} ms (p99), ${late.at(-1) ?? 0} ms (max) after due, under kills`,
    );
  },
};
