import type { ConsumeMessage, Options } from 'amqplib';
import type { Harness, Scenario } from '../harness/harness.js';
import { header, resultBody, some } from '../harness/results.js';
import { numberedTask, type Outgoing, taskId } from '../harness/tasks.js';

const GOOD = 3000;
const ECHO_WORKERS = 3;
const SABOTEUR_WORKERS = 2;
const SABOTEUR_MAX_CRASHES = 2;
const MAX_BODY = 256 * 1024;
/** SIGKILLs of echo children, starting ones included, in a storm of KILL_EVERY_MS. */
const KILLS = 30;
const KILL_EVERY_MS = 100;

/** A value amqplib encodes, that comes back as one it cannot encode again. */
const UNENCODABLE = { '!': 'timestamp', value: 2n ** 64n - 1n };

/** What must become of one task: where it arrives, and what it must carry there. */
interface Expected {
  what: string;
  queue: 'results' | 'taskqueue.invalid';
  /** x-taskqueue-error-code on the invalid queue. */
  code?: string;
  /** On results: an error result whose error matches, or none (a success). */
  error?: RegExp;
  /** On results: a header that must be there. */
  header?: string;
}

interface Hostile {
  what: string;
  count: number;
  make: (n: number, i: number) => Outgoing;
  expect: Omit<Expected, 'what'>;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const props = (n: number, extra: Options.Publish = {}): Options.Publish => ({
  persistent: true,
  contentType: 'application/json',
  messageId: taskId(n),
  correlationId: taskId(n),
  ...extra,
});
const workitem = (n: number, type: string, fields: Record<string, unknown> = {}) =>
  json({ fields: { ...fields, n, params: { worker_type: type } } });

/** What a foreign AMQP client and a hostile plugin throw at the system, beside good traffic. */
const HOSTILE: Hostile[] = [
  ...['echo.dead', 'echo.retry.2000ms', 'echo.invalid', 'echo.DELAY'].map(
    (type): Hostile => ({
      what: `type ${type} (a reserved segment)`,
      count: 5,
      make: (n) => ({ n, body: workitem(n, type), options: props(n) }),
      expect: { queue: 'taskqueue.invalid', code: 'TQ_ERR_TASK_INVALID' },
    }),
  ),
  {
    what: 'a type outside [dispatcher] types',
    count: 100,
    make: (n, i) => ({ n, body: workitem(n, `junk-${i}`), options: props(n) }),
    expect: { queue: 'taskqueue.invalid', code: 'TQ_ERR_TASK_TYPE_NOT_ALLOWED' },
  },
  {
    what: 'a body above max_body_size',
    count: 10,
    make: (n) => ({
      n,
      body: workitem(n, 'echo', { pad: 'x'.repeat(MAX_BODY + 1000) }),
      options: props(n),
    }),
    expect: { queue: 'taskqueue.invalid', code: 'TQ_ERR_TASK_TOO_LARGE' },
  },
  {
    what: 'a JSON array of empty objects just under max_body_size',
    count: 10,
    make: (n) => ({
      n,
      body: Buffer.from(`[${'{},'.repeat(Math.floor(MAX_BODY / 3) - 10)}{}]`),
      options: props(n),
    }),
    expect: { queue: 'taskqueue.invalid', code: 'TQ_ERR_TASK_INVALID' },
  },
  {
    what: 'reply_to naming the input queue',
    count: 5,
    make: (n) => ({ n, body: workitem(n, 'echo'), options: props(n, { replyTo: 'taskqueue' }) }),
    expect: { queue: 'results', header: 'x-taskqueue-reply-to-refused' },
  },
  {
    what: "reply_to naming another type's dead-letter queue",
    count: 5,
    make: (n) => ({
      n,
      body: workitem(n, 'echo'),
      options: props(n, { replyTo: 'worker_saboteur.dead' }),
    }),
    expect: { queue: 'results', header: 'x-taskqueue-reply-to-refused' },
  },
  {
    what: 'invalid UTF-8 straight to worker_echo',
    count: 5,
    make: (n) => ({
      n,
      queue: 'worker_echo',
      body: Buffer.concat([
        Buffer.from('{"fields":{"s":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}}'),
      ]),
      options: props(n),
    }),
    expect: { queue: 'results', error: /UTF-8/ },
  },
  {
    what: 'a body above max_body_size straight to worker_echo',
    count: 5,
    make: (n) => ({
      n,
      queue: 'worker_echo',
      body: workitem(n, 'echo', { pad: 'x'.repeat(MAX_BODY + 1000) }),
      options: props(n),
    }),
    expect: { queue: 'results', error: /max_body_size/ },
  },
  {
    what: 'a header that cannot be encoded again, straight to worker_echo',
    count: 5,
    make: (n) => ({
      n,
      queue: 'worker_echo',
      body: workitem(n, 'echo'),
      options: props(n, { headers: { 'x-when': UNENCODABLE } }),
    }),
    expect: { queue: 'results' },
  },
  ...['channel-null', 'channel-lost', 'channel-garbage', 'held-tasks-huge'].map(
    (sabotage): Hostile => ({
      what: `a plugin that does ${sabotage}`,
      count: 2,
      make: (n) => ({ n, body: workitem(n, 'saboteur', { sabotage }), options: props(n) }),
      expect: { queue: 'results', error: /^poison: / },
    }),
  ),
];

/** Good echo tasks with the hostile ones spread among them; the expectation of each number. */
function plan(): { tasks: Outgoing[]; expected: Map<number, Expected> } {
  const hostile = HOSTILE.flatMap((h) => Array.from({ length: h.count }, (_, i) => ({ h, i })));
  const total = GOOD + hostile.length;
  const step = Math.floor(total / (hostile.length + 1));
  const tasks: Outgoing[] = [];
  const expected = new Map<number, Expected>();
  let next = 0;
  for (let n = 0; n < total; n++) {
    const slot = hostile[next];
    if (slot && n > 0 && n % step === 0) {
      next++;
      tasks.push(slot.h.make(n, slot.i));
      expected.set(n, { what: slot.h.what, ...slot.h.expect });
    } else {
      tasks.push(numberedTask(n, 'echo'));
      expected.set(n, { what: 'good echo task', queue: 'results' });
    }
  }
  // Whatever did not fit between the good ones goes at the end.
  for (; next < hostile.length; next++) {
    const { h, i } = hostile[next]!;
    const n = tasks.length;
    tasks.push(h.make(n, i));
    expected.set(n, { what: h.what, ...h.expect });
  }
  return { tasks, expected };
}

/** Why arrival of task `n` is not what was expected of it, if it is not. */
function check(
  n: number,
  expect: Expected | undefined,
  queue: string,
  m: ConsumeMessage,
): string[] {
  if (!expect) return [`task ${n}: not sent`];
  const is = `task ${n} (${expect.what})`;
  if (queue !== expect.queue) return [`${is} arrived on ${queue}, not ${expect.queue}`];
  if (queue === 'taskqueue.invalid') {
    const code = header(m, 'x-taskqueue-error-code');
    return expect.code && code !== expect.code
      ? [`${is}: x-taskqueue-error-code ${String(code)}, not ${expect.code}`]
      : [];
  }
  const problems: string[] = [];
  const error = resultBody(m)?.error;
  if (expect.error && !expect.error.test(error ?? ''))
    problems.push(`${is}: error ${JSON.stringify(error?.slice(0, 200))}, not ${expect.error}`);
  if (!expect.error && error !== undefined) problems.push(`${is}: error ${error.slice(0, 200)}`);
  if (expect.header && header(m, expect.header) === undefined)
    problems.push(`${is}: no ${expect.header} header`);
  return problems;
}

/**
 * (l) Hostile senders and a hostile plugin beside good traffic (issue 23): a foreign client
 * sends reserved and junk types, bodies above max_body_size, a 256 KiB array, reply_to naming the
 * system's queues, and publishes unreadable tasks straight to a worker queue; a plugin garbles
 * its channel to the pool and grows its held-tasks file to 5 GB; and the echo children are
 * SIGKILLed in a storm, starting ones included. Every good task must be answered, every hostile
 * one parked or answered as the contract says, no program may fall, no junk queue may exist.
 * faults = hostile tasks + kills.
 */
export const scenario: Scenario = {
  name: 'l-hostile-mix',
  title: 'hostile inputs, a hostile plugin and a kill storm beside good traffic',
  limitMs: 300_000,
  async run(h) {
    const { tasks, expected } = plan();
    const hostileCount = tasks.length - GOOD;
    const broker = await h.broker();
    const fleet = h.fleet({
      urls: broker.urls,
      enabled: ['echo', 'saboteur'],
      dispatcherExtra: `types = echo, saboteur\nmax_body_size = ${MAX_BODY}\nmax_bytes_in_flight = 4M\n`,
      sections:
        `[echo]\nworkers = ${ECHO_WORKERS}\nmax_body_size = ${MAX_BODY}\n\n` +
        `[saboteur]\nworkers = ${SABOTEUR_WORKERS}\nmax_crashes = ${SABOTEUR_MAX_CRASHES}\n`,
    });
    const dispatcher = await fleet.dispatcher();
    const pool = await fleet.pool('echo', ECHO_WORKERS);
    if (!(await h.waitFor(() => pool.runningCount('saboteur') >= SABOTEUR_WORKERS, 60_000)))
      throw new Error(`saboteur children not running\n${pool.tail()}`);
    const problems: string[] = [];
    const collector = await h.collect(broker.urls, {
      onFirst: (n, { queue, message }) =>
        problems.push(...check(n, expected.get(n), queue, message)),
    });
    h.faults += hostileCount;
    h.publish(broker.urls, tasks, { ratePerSecond: 1500 });
    await h.waitFor(() => collector.distinct >= tasks.length / 3, 60_000);
    await killStorm(h, () => fleet.children(pool).filter((pid) => pool.childGroup(pid) === 'echo'));
    await h.settle();

    if (problems.length > 0) h.fail(`${problems.length} wrong arrival(s): ${some(problems, 6)}`);
    const junk = (await broker.queues())
      .map((q) => q.name)
      .filter((name) => /^worker_(junk-|echo\.)/.test(name) && name !== 'worker_echo.dead');
    if (junk.length > 0) h.fail(`queues a sender made the system declare: ${some(junk, 6)}`);
    if (!dispatcher.alive) h.fail('the dispatcher is gone');
    if (!pool.alive) h.fail('the pool is gone');
    // Each sabotage task costs exactly max_crashes children, each ended by the pool with a code.
    for (const [code, tasks] of [
      ['TQ_ERR_CHILD_MESSAGE', 6],
      ['TQ_ERR_CHILD_HELD_TASKS', 2],
    ] as const) {
      const ended = fleet.grep(new RegExp(`"code":"${code}"`), 'workerpool');
      h.say(`${code}: ${ended.length} children ended by the pool`);
      if (ended.length < tasks * SABOTEUR_MAX_CRASHES)
        h.fail(
          `${ended.length} children ended with ${code}, ${tasks * SABOTEUR_MAX_CRASHES} expected`,
        );
    }
    const paused = fleet.grep(/"code":"TQ_ERR_GROUP_(PAUSED|FAILED)"/, 'workerpool');
    h.say(`echo paused or failed ${paused.length} time(s): ${paused[0]?.slice(0, 300) ?? ''}`);
  },
};

/** SIGKILLs a random echo child (starting ones too) every KILL_EVERY_MS, KILLS times. */
async function killStorm(h: Harness, echoChildren: () => number[]): Promise<void> {
  let killed = 0;
  await h.repeat(
    'SIGKILL a random echo child',
    { everyMs: KILL_EVERY_MS, max: KILLS * 3, maxMs: 30_000, until: () => killed >= KILLS },
    () => {
      const children = echoChildren();
      if (children.length === 0) return false;
      process.kill(h.random.pick(children), 'SIGKILL');
      killed++;
      return true;
    },
  );
}
