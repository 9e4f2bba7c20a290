import type { Workitem } from '@taskqueue/plugin-api';
import { NonRetryableError } from '@taskqueue/plugin-api';
import type { ConsumeMessage, Options } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { AckBatcher } from '../../../src/common/amqp/acks.js';
import type { ConfirmedPublisher } from '../../../src/common/amqp/publisher.js';
import { EVENTS_EXCHANGE } from '../../../src/common/amqp/queues.js';
import { ERROR_CODE_HEADER } from '../../../src/common/amqp/wire.js';
import type { AmqpConfig, GroupConfig } from '../../../src/common/config/types.js';
import { TqError } from '../../../src/common/errors.js';
import { createLogger } from '../../../src/common/logger.js';
import { CRASH_LOG_HEADER, CRASHES_HEADER } from '../../../src/workerpool/child/attempts.js';
import {
  type Outcome,
  OutcomePolicy,
  type PluginWorker,
  type Settlement,
} from '../../../src/workerpool/child/outcome.js';
import type { PoolLink } from '../../../src/workerpool/child/pool-link.js';
import { type ChannelTools, TaskInHand } from '../../../src/workerpool/child/task.js';
import { ChildEvents } from '../../../src/workerpool/child/task-events.js';
import type { TaskRouter } from '../../../src/workerpool/child/task-router.js';
import type { ChildSpec, Verdict } from '../../../src/workerpool/ipc.js';

const group: GroupConfig = {
  name: 'echo',
  type: 'echo',
  instance: undefined,
  workers: 1,
  user: undefined,
  group: undefined,
  resultsExchange: '',
  resultsRoutingKey: 'results',
  prefetch: 1,
  maxAttempts: 3,
  retryDelay: 10,
  maxCrashes: 3,
  timeout: undefined,
  maxTasksPerChild: undefined,
  maxMemoryPerChild: undefined,
  maxBodySize: 1_000_000,
  semiSpaceSize: undefined,
  concurrency: undefined,
  maxPriority: undefined,
  rateLimit: undefined,
  settings: {},
};

interface Published {
  exchange: string;
  routingKey: string;
  body: Record<string, unknown>;
  options: Options.Publish;
}

/**
 * One channel's tools, faked: what is published, routed, acked and nacked is recorded in
 * `events` in the order it happened. `refuseAbove`: the broker refuses (and closes the channel
 * on) a result larger than this.
 */
function fakeChannel(
  opts: { refuseAbove?: number; failPublish?: unknown; failEvents?: unknown } = {},
) {
  const events: string[] = [];
  const published: Published[] = [];
  const routed: { op: string; args: unknown[] }[] = [];
  const tools = { closed: false } as ChannelTools;
  const publisher = {
    publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish) {
      if (opts.failPublish) return Promise.reject(opts.failPublish);
      if (opts.failEvents && exchange === EVENTS_EXCHANGE) return Promise.reject(opts.failEvents);
      if (opts.refuseAbove !== undefined && content.length > opts.refuseAbove) {
        tools.closed = true;
        return Promise.reject(new TqError('TQ_ERR_AMQP_REFUSED', 'refused'));
      }
      events.push(`publish ${routingKey}`);
      published.push({ exchange, routingKey, body: JSON.parse(content.toString()), options });
      return Promise.resolve();
    },
  };
  const route =
    (op: string, result: unknown = undefined) =>
    (...args: unknown[]) => {
      events.push(op);
      routed.push({ op, args });
      return Promise.resolve(result);
    };
  const router = {
    retry: route('retry', 10_000),
    requeueAfterCrash: route('requeueAfterCrash'),
    handBack: route('handBack'),
    park: route('park'),
    delay: route('delay'),
  };
  const acks = {
    received: () => {},
    ack: () => events.push('ack'),
    nack: (_m: unknown, requeue: boolean) => events.push(`nack requeue=${requeue}`),
    flush: () => {},
  };
  Object.assign(tools, {
    channel: undefined,
    acks: acks as unknown as AckBatcher,
    publisher: publisher as unknown as ConfirmedPublisher,
    router: router as unknown as TaskRouter,
  });
  return { tools, events, published, routed };
}

function fakePool() {
  const lost: { keys: string[]; cause: string; code?: string }[] = [];
  const pool: PoolLink = {
    started: () => 0,
    waiting: () => 0,
    finished: () => {},
    lost: (keys, cause, code) =>
      lost.push(code === undefined ? { keys, cause } : { keys, cause, code }),
    verdict: async () => undefined,
  };
  return { pool, lost };
}

const log = createLogger('test', 'fatal', () => {});

function message(
  body: unknown,
  headers: Record<string, unknown> = {},
  raw?: Buffer,
): ConsumeMessage {
  return {
    content: raw ?? Buffer.from(JSON.stringify(body)),
    fields: {
      deliveryTag: 1,
      redelivered: false,
      consumerTag: 'c',
      exchange: '',
      routingKey: 'worker_echo',
    },
    properties: { headers, messageId: 'm-1', contentType: 'application/json' },
  } as unknown as ConsumeMessage;
}

function setup(
  opts: {
    refuseAbove?: number;
    failPublish?: unknown;
    failEvents?: unknown;
    worker?: PluginWorker;
    stopping?: boolean;
    tracking?: boolean;
  } = {},
) {
  const channel = fakeChannel(opts);
  const { pool, lost } = fakePool();
  const settled: { outcome: Outcome['kind']; settlement: Settlement }[] = [];
  const spec = { group, amqp: {} as AmqpConfig, inputQueue: 'taskqueue' } as ChildSpec;
  const worker: PluginWorker = opts.worker ?? { handleTask: async () => undefined };
  const policy = new OutcomePolicy(
    spec,
    worker,
    pool,
    {
      beforeAck: () => channel.events.push('beforeAck'),
      onSettled: (_task, outcome, settlement) =>
        settled.push({ outcome: outcome.kind, settlement }),
      stopping: () => opts.stopping ?? false,
    },
    false,
    opts.tracking ? new ChildEvents() : undefined,
  );
  const task = (m: ConsumeMessage, parse = true) => {
    const t = new TaskInHand(
      channel.tools,
      m,
      { key: 'echo\0m-1', taskId: 'm-1', type: 'echo' },
      log,
    );
    if (parse) t.parse(group.maxBodySize);
    return t;
  };
  return { ...channel, lost, settled, policy, task };
}

/** The arguments of the first router call `op`; fails the test when there was none. */
function argsOf(routed: { op: string; args: unknown[] }[], op: string): unknown[] {
  const call = routed.find((r) => r.op === op);
  if (!call) throw new Error(`no ${op} in ${JSON.stringify(routed.map((r) => r.op))}`);
  return call.args;
}

const input = { fields: { params: { worker_type: 'echo' }, n: 1 } };

describe('OutcomePolicy: what becomes of a task once its outcome is known', () => {
  it('publishes a result to the results route, then acks, and says so once', async () => {
    const t = setup();
    await t.policy.settle(t.task(message(input)), {
      kind: 'result',
      workitem: { fields: { n: 2 } } as Workitem,
    });
    expect(t.published).toHaveLength(1);
    expect(t.published[0]?.routingKey).toBe('results');
    expect(t.published[0]?.body).toEqual({ fields: { n: 2 } });
    expect(t.published[0]?.options.headers?.['x-attempts']).toBe(1);
    expect(t.published[0]?.options.correlationId).toBe('m-1');
    expect(t.events).toEqual(['publish results', 'beforeAck', 'ack']);
    expect(t.settled).toEqual([{ outcome: 'result', settlement: 'acked' }]);
  });

  it('retries a failed attempt through the broker while attempts remain, without a result', async () => {
    const t = setup();
    await t.policy.settle(t.task(message(input, { 'x-taskqueue-attempt': 2 })), {
      kind: 'failed',
      error: new Error('boom'),
    });
    expect(t.published).toEqual([]);
    expect(t.routed).toEqual([{ op: 'retry', args: [expect.anything(), 10, 3, 'boom'] }]);
    expect(t.events).toEqual(['retry', 'beforeAck', 'ack']);
  });

  it('reports the last failed attempt as the input plus error and trace', async () => {
    const t = setup();
    await t.policy.settle(t.task(message(input, { 'x-taskqueue-attempt': 3 })), {
      kind: 'failed',
      error: new Error('boom'),
    });
    expect(t.routed).toEqual([]);
    expect(t.published[0]?.body).toMatchObject({ ...input, error: 'boom' });
    expect(t.published[0]?.body.trace).toEqual(expect.stringContaining('boom'));
    expect(t.published[0]?.options.headers?.['x-attempts']).toBe(3);
  });

  it('does not retry a non-retryable error', async () => {
    const t = setup();
    await t.policy.settle(t.task(message(input)), {
      kind: 'failed',
      error: new NonRetryableError('no point'),
    });
    expect(t.routed).toEqual([]);
    expect(t.published[0]?.body.error).toBe('no point');
  });

  it('counts a crash and puts the task back while crashes remain', async () => {
    const t = setup();
    const verdict: Verdict = { kind: 'crash', cause: 'exit code 1' };
    await t.policy.settle(t.task(message(input, { [CRASHES_HEADER]: 1 })), {
      kind: 'consumer-died',
      verdict,
    });
    expect(t.routed).toHaveLength(1);
    expect(t.routed[0]?.op).toBe('requeueAfterCrash');
    const [, crashes, crashLog] = argsOf(t.routed, 'requeueAfterCrash') as [
      unknown,
      number,
      string[],
    ];
    expect(crashes).toBe(2);
    expect(crashLog).toHaveLength(1);
    expect(crashLog[0]).toMatch(/exit code 1$/);
    expect(t.published).toEqual([]);
    // Not a run of the plugin: no recycle check before its ack.
    expect(t.events).toEqual(['requeueAfterCrash', 'ack']);
  });

  it('parks a task as poison at max_crashes, with the crashes in headers, and an error result', async () => {
    const t = setup();
    const m = message(input, { [CRASHES_HEADER]: 2, [CRASH_LOG_HEADER]: ['first', 'second'] });
    await t.policy.settle(t.task(m), { kind: 'consumer-died', verdict: undefined });
    const [, reason, extra] = argsOf(t.routed, 'park') as [
      unknown,
      string,
      Record<string, unknown>,
    ];
    expect(reason).toMatch(/^poison: 3 consumers died/);
    expect(extra[CRASHES_HEADER]).toBe(3);
    expect(extra[CRASH_LOG_HEADER]).toHaveLength(3);
    expect(t.published[0]?.body.error).toMatch(/poison: 3 consumers died.*first; second/);
    expect(t.events).toEqual(['park', 'publish results', 'ack']);
  });

  it('takes a consumer killed for its timeout as a failed attempt, not a crash', async () => {
    const t = setup();
    await t.policy.settle(t.task(message(input)), {
      kind: 'consumer-died',
      verdict: { kind: 'timeout', cause: 'ran past timeout 5 s' },
    });
    expect(t.routed.map((r) => r.op)).toEqual(['retry']);
    expect(t.routed[0]?.args[3]).toBe('ran past timeout 5 s');
  });

  it('parks an unreadable task with its code and answers with an error result', async () => {
    const t = setup();
    const m = message(undefined, {}, Buffer.from('[1, 2]'));
    const task = t.task(m, false);
    let error: unknown;
    try {
      task.parse(group.maxBodySize);
    } catch (err) {
      error = err;
    }
    await t.policy.settle(task, { kind: 'unreadable', error });
    const [, reason, extra] = argsOf(t.routed, 'park') as [
      unknown,
      string,
      Record<string, unknown>,
    ];
    expect(reason).toBe('unreadable task: task body is not a JSON object');
    expect(extra[ERROR_CODE_HEADER]).toBe('TQ_ERR_TASK_UNREADABLE');
    expect(t.published[0]?.body).toEqual({ fields: {}, error: reason, trace: reason });
    expect(t.events).toEqual(['park', 'publish results', 'ack']);
  });

  it('leaves a result the broker refused as too large unacked, tells the pool, and refuses one as large before sending', async () => {
    const t = setup({ refuseAbove: 10_000 });
    const big = { fields: { blob: 'x'.repeat(20_000) } } as Workitem;
    await t.policy.settle(t.task(message(input)), { kind: 'result', workitem: big });
    expect(t.lost).toEqual([
      {
        keys: ['echo\0m-1'],
        cause: expect.stringContaining('refused'),
        code: 'TQ_ERR_RESULT_TOO_LARGE',
      },
    ]);
    expect(t.events).toEqual([]);
    expect(t.settled).toEqual([{ outcome: 'result', settlement: 'left' }]);

    // The same size again, on a fresh channel: refused unsent, answered and parked now.
    t.tools.closed = false;
    await t.policy.settle(t.task(message(input)), { kind: 'result', workitem: big });
    expect(t.published[0]?.body.error).toMatch(/too large: the broker refused one of/);
    expect((argsOf(t.routed, 'park')[2] as Record<string, unknown>)[ERROR_CODE_HEADER]).toBe(
      'TQ_ERR_RESULT_TOO_LARGE',
    );
    expect(t.events).toEqual(['publish results', 'park', 'beforeAck', 'ack']);
    expect(t.settled[1]).toEqual({ outcome: 'result', settlement: 'acked' });
  });

  it('parks, without running it, a task whose result the broker refused before', async () => {
    const t = setup();
    await t.policy.settle(t.task(message(input)), {
      kind: 'result-refused',
      cause: 'the broker refused the result of 9 bytes',
    });
    expect(t.published[0]?.body).toMatchObject({
      error: 'the broker refused the result of 9 bytes',
    });
    expect(t.events).toEqual(['publish results', 'park', 'ack']);
  });

  it('hands a task back when the broker refuses its outcome, and tells the pool it was lost', async () => {
    const t = setup({ failPublish: new Error('queue full'), stopping: true });
    await t.policy.settle(t.task(message(input)), {
      kind: 'result',
      workitem: input as Workitem,
    });
    expect(t.events).toEqual(['nack requeue=true']);
    expect(t.lost).toEqual([{ keys: ['echo\0m-1'], cause: 'its outcome was not confirmed' }]);
    expect(t.settled).toEqual([{ outcome: 'result', settlement: 'requeued' }]);
  });

  it('leaves a task whose channel closed under its outcome to the broker', async () => {
    const closed = new TqError('TQ_ERR_AMQP_CHANNEL_CLOSED', 'channel closed');
    const t = setup({ failPublish: closed });
    await t.policy.settle(t.task(message(input)), { kind: 'result', workitem: input as Workitem });
    expect(t.events).toEqual([]);
    expect(t.settled).toEqual([{ outcome: 'result', settlement: 'left' }]);
  });

  it('drops the late outcome of a task handed back, sending and acking nothing', async () => {
    const t = setup();
    await t.policy.settle(t.task(message(input)), { kind: 'dropped', why: 'handed-back' });
    expect(t.events).toEqual([]);
    expect(t.settled).toEqual([{ outcome: 'dropped', settlement: 'left' }]);
  });

  it("publishes through the plugin's own reportResults", async () => {
    const worker: PluginWorker = {
      handleTask: async () => undefined,
      reportResults: async (result, publish) => {
        await publish({ ...result, copy: 1 } as Workitem);
        await publish({ ...result, copy: 2 } as Workitem);
      },
    };
    const t = setup({ worker });
    await t.policy.settle(t.task(message(input)), { kind: 'result', workitem: input as Workitem });
    expect(t.published.map((p) => p.body.copy)).toEqual([1, 2]);
    expect(t.events).toEqual(['publish results', 'publish results', 'beforeAck', 'ack']);
  });
});

describe('OutcomePolicy: how a task ended, for the metrics (task.ending)', () => {
  const ended = async (
    outcome: Outcome,
    headers: Record<string, unknown> = {},
    opts: Parameters<typeof setup>[0] = {},
  ) => {
    const t = setup(opts);
    const task = t.task(message(input, headers));
    await t.policy.settle(task, outcome);
    return task.ending;
  };
  const attempt = (n: number) => ({ 'x-taskqueue-attempt': n });

  it('names each end once, from the decision taken', async () => {
    const result = { kind: 'result', workitem: input as Workitem } as const;
    const boom = new Error('boom');
    expect(await ended(result)).toBe('succeeded');
    expect(await ended({ kind: 'failed', error: boom }, attempt(1))).toBe('retried');
    expect(await ended({ kind: 'failed', error: boom }, attempt(3))).toBe('failed');
    expect(await ended({ kind: 'failed', error: new NonRetryableError('no') })).toBe('failed');
    expect(await ended({ kind: 'timeout', error: boom }, attempt(1))).toBe('timed_out');
    expect(await ended({ kind: 'timeout', error: boom }, attempt(3))).toBe('timed_out');
    expect(await ended({ kind: 'hung', error: boom }, attempt(3))).toBe('timed_out');
    const timedOut: Verdict = { kind: 'timeout', cause: 'ran past timeout 5 s' };
    expect(await ended({ kind: 'consumer-died', verdict: timedOut })).toBe('timed_out');
    const crash: Verdict = { kind: 'crash', cause: 'exit code 1' };
    expect(await ended({ kind: 'consumer-died', verdict: crash })).toBe('crashed');
    expect(await ended({ kind: 'consumer-died', verdict: crash }, { [CRASHES_HEADER]: 2 })).toBe(
      'poisoned',
    );
    expect(await ended({ kind: 'result-refused', cause: 'refused' })).toBe('parked');
    expect(await ended({ kind: 'dropped', why: 'handed-back' })).toBe('returned');
    expect(await ended(result, {}, { failPublish: new Error('queue full'), stopping: true })).toBe(
      'returned',
    );
  });

  it('names a task parked for its size or an unserializable result `parked`', async () => {
    const big = { fields: { blob: 'x'.repeat(20_000) } } as Workitem;
    const t = setup({ refuseAbove: 10_000 });
    const first = t.task(message(input));
    await t.policy.settle(first, { kind: 'result', workitem: big });
    expect(first.ending).toBe('returned'); // refused by the broker: it comes back
    t.tools.closed = false;
    const second = t.task(message(input));
    await t.policy.settle(second, { kind: 'result', workitem: big });
    expect(second.ending).toBe('parked'); // refused before sending: parked now
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(await ended({ kind: 'result', workitem: { fields: circular } as Workitem })).toBe(
      'parked',
    );
  });
});

describe('OutcomePolicy with [tracking] enabled: final events before the ack', () => {
  it('publishes succeeded with a copy of the result after the result, before the ack', async () => {
    const t = setup({ tracking: true });
    await t.policy.settle(t.task(message(input)), {
      kind: 'result',
      workitem: { fields: { n: 2 } } as Workitem,
    });
    expect(t.events).toEqual([
      'publish results',
      'publish task.succeeded.echo',
      'beforeAck',
      'ack',
    ]);
    expect(t.published[1]?.exchange).toBe(EVENTS_EXCHANGE);
    expect(t.published[1]?.body).toMatchObject({
      v: 1,
      event: 'succeeded',
      taskId: 'm-1',
      type: 'echo',
      attempt: 1,
      result: { fields: { n: 2 } },
    });
    expect(t.published[1]?.options.persistent).toBe(true);
  });

  it('publishes failed with the error after the error result', async () => {
    const t = setup({ tracking: true });
    await t.policy.settle(t.task(message(input)), {
      kind: 'failed',
      error: new NonRetryableError('no point'),
    });
    expect(t.events).toEqual(['publish results', 'publish task.failed.echo', 'beforeAck', 'ack']);
    expect(t.published[1]?.body).toMatchObject({ event: 'failed', error: 'no point' });
  });

  it('publishes poisoned with the crash log when the last allowed consumer died', async () => {
    const t = setup({ tracking: true });
    const m = message(input, { [CRASHES_HEADER]: 2, [CRASH_LOG_HEADER]: ['a', 'b'] });
    (m.fields as { redelivered: boolean }).redelivered = true;
    await t.policy.settle(t.task(m), { kind: 'consumer-died', verdict: undefined });
    const event = t.published.find((p) => p.exchange === EVENTS_EXCHANGE)?.body;
    expect(event).toMatchObject({ event: 'poisoned', errorCode: 'TQ_ERR_TASK_POISON' });
    expect(event?.crashLog).toHaveLength(3);
    expect(t.events.at(-1)).toBe('ack');
  });

  it('does not ack a task whose final event the broker refused: it is handed back', async () => {
    const t = setup({
      tracking: true,
      stopping: true,
      failEvents: new TqError('TQ_ERR_AMQP_UNROUTABLE', 'no queue'),
    });
    await t.policy.settle(t.task(message(input)), {
      kind: 'result',
      workitem: { fields: { n: 2 } } as Workitem,
    });
    expect(t.events).toEqual(['publish results', 'nack requeue=true']);
    expect(t.settled).toEqual([{ outcome: 'result', settlement: 'requeued' }]);
    expect(t.lost).toHaveLength(1);
  });

  it('leaves a task whose final event was cut off by a closed channel', async () => {
    const t = setup({
      tracking: true,
      failEvents: new TqError('TQ_ERR_AMQP_CHANNEL_CLOSED', 'closed'),
    });
    await t.policy.settle(t.task(message(input)), {
      kind: 'result',
      workitem: { fields: { n: 2 } } as Workitem,
    });
    expect(t.events).not.toContain('ack');
    expect(t.settled).toEqual([{ outcome: 'result', settlement: 'left' }]);
  });

  it('publishes nothing for a task without an id', async () => {
    const t = setup({ tracking: true });
    const m = message(input);
    delete (m.properties as { messageId?: string }).messageId;
    await t.policy.settle(t.task(m), { kind: 'result', workitem: { fields: {} } as Workitem });
    expect(t.events).toEqual(['publish results', 'beforeAck', 'ack']);
  });
});

describe('OutcomePolicy: a cancelled task (issue 28, cancel)', () => {
  it('answers one cancelled before it started with an error result, then the cancelled final, then the ack; no retry', async () => {
    const t = setup({ tracking: true });
    await t.policy.settle(t.task(message(input)), { kind: 'cancelled', ran: false });
    expect(t.events).toEqual([
      'publish results',
      'publish task.cancelled.echo',
      'beforeAck',
      'ack',
    ]);
    expect(t.routed).toEqual([]);
    expect(t.published[0]?.body).toMatchObject({ fields: input.fields });
    expect(String(t.published[0]?.body.error)).toContain('TQ_ERR_TASK_CANCELLED');
    expect(String(t.published[0]?.body.error)).toContain('before it started');
    expect(t.published[1]?.body).toMatchObject({
      v: 1,
      event: 'cancelled',
      taskId: 'm-1',
      errorCode: 'TQ_ERR_TASK_CANCELLED',
    });
    expect(t.published[1]?.body.result).toBeUndefined();
    expect(t.settled).toEqual([{ outcome: 'cancelled', settlement: 'acked' }]);
  });

  it('says a task stopped while it ran was stopped, and is not retried with attempts left', async () => {
    const t = setup();
    await t.policy.settle(t.task(message(input)), { kind: 'cancelled', ran: true });
    expect(t.events).toEqual(['publish results', 'beforeAck', 'ack']);
    expect(String(t.published[0]?.body.error)).toContain('while it ran');
  });
});

describe('OutcomePolicy: a task past its deadline or before its time (issue 30)', () => {
  it('answers an expired task with its error result, then the expired final, then the ack; no retry', async () => {
    const t = setup({ tracking: true });
    const at = '2026-12-07T05:00:00.000Z';
    await t.policy.settle(t.task(message(input)), { kind: 'expired', expiresAt: at });
    expect(t.events).toEqual(['publish results', 'publish task.expired.echo', 'beforeAck', 'ack']);
    expect(t.routed).toEqual([]);
    expect(t.published[0]?.body).toMatchObject({
      fields: input.fields,
      error: `task expired at ${at} before it started (TQ_ERR_TASK_EXPIRED): not run`,
    });
    expect(t.published[1]?.body).toMatchObject({
      v: 1,
      event: 'expired',
      taskId: 'm-1',
      attempt: 1,
      errorCode: 'TQ_ERR_TASK_EXPIRED',
      result: { fields: input.fields },
    });
    expect(t.settled).toEqual([{ outcome: 'expired', settlement: 'acked' }]);
  });

  it('sends an early task back into the ladder for the rest, then acks; nothing published', async () => {
    const t = setup({ tracking: true });
    const due = Date.now() + 60_000;
    await t.policy.settle(t.task(message(input)), { kind: 'early', dueMs: due });
    expect(t.events).toEqual(['delay', 'ack']);
    expect(argsOf(t.routed, 'delay')[1]).toBe(due);
    expect(t.published).toEqual([]);
  });
});
