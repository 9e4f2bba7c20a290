import {
  BaseWorker,
  NonRetryableError,
  type PublishResult,
  type SetupContext,
  type TaskContext,
  type Workitem,
} from '@taskqueue/plugin-api';
import {
  createSetupContext,
  createTaskContext,
  recordingLogger,
  runTask,
} from '@taskqueue/plugin-api/testing';
import { describe, expect, it } from 'vitest';

const input: Workitem = { fields: { params: { worker_type: 'probe' }, n: 1 } };

class Doubler extends BaseWorker {
  async handleTask(workitem: Workitem, ctx: TaskContext): Promise<Workitem> {
    ctx.logger.info({ n: workitem.fields.n }, 'doubling');
    return { ...workitem, fields: { ...workitem.fields, n: Number(workitem.fields.n) * 2 } };
  }
}

describe('runTask', () => {
  it('publishes what handleTask returns, JSON round-tripped', async () => {
    const outcome = await runTask(Doubler, input);
    expect(outcome).toMatchObject({ status: 'result', attempts: 1, timedOut: false });
    expect(outcome.error).toBeUndefined();
    expect(outcome.result).toEqual({ fields: { params: { worker_type: 'probe' }, n: 2 } });
    expect(outcome.published).toEqual([outcome.result]);
  });

  it('publishes the input workitem, as changed in place, when handleTask returns nothing', async () => {
    class InPlace extends BaseWorker {
      async handleTask(workitem: Workitem): Promise<void> {
        workitem.fields.seen = true;
      }
    }
    const outcome = await runTask(new InPlace(), input);
    expect(outcome.status).toBe('result');
    expect(outcome.result).toEqual({ fields: { ...input.fields, seen: true } });
    expect(input.fields.seen).toBeUndefined(); // the caller's workitem is not the one handed over
  });

  it('a NonRetryableError: one attempt, the error result, retryable false', async () => {
    let calls = 0;
    class Refuses extends BaseWorker {
      async handleTask(): Promise<Workitem> {
        calls += 1;
        throw new NonRetryableError('bad input');
      }
    }
    const outcome = await runTask(Refuses, input, { maxAttempts: 3 });
    expect(outcome).toMatchObject({ status: 'error', attempts: 1, retryable: false });
    expect(calls).toBe(1);
    expect((outcome.error as Error).message).toBe('bad input');
    expect(outcome.result).toMatchObject({ ...input, error: 'bad input' });
    expect(String(outcome.result?.trace)).toContain('NonRetryableError: bad input');
  });

  it('a retryable failure is attempted maxAttempts times, each with its attempt number', async () => {
    const attempts: number[] = [];
    class Fails extends BaseWorker {
      async handleTask(_workitem: Workitem, ctx: TaskContext): Promise<Workitem> {
        attempts.push(ctx.attempt);
        throw new Error(`failure ${ctx.attempt}`);
      }
    }
    const outcome = await runTask(Fails, input, { maxAttempts: 3 });
    expect(outcome).toMatchObject({ status: 'error', attempts: 3, retryable: true });
    expect(attempts).toEqual([1, 2, 3]);
    expect(outcome.published).toHaveLength(1);
    expect(outcome.result?.error).toBe('failure 3');
  });

  it('a retry that succeeds publishes only its result', async () => {
    class Flaky extends BaseWorker {
      async handleTask(workitem: Workitem, ctx: TaskContext): Promise<Workitem> {
        if (ctx.attempt < 2) throw new Error('not yet');
        return workitem;
      }
    }
    const outcome = await runTask(Flaky, input, { maxAttempts: 3 });
    expect(outcome).toMatchObject({ status: 'result', attempts: 2, published: [input] });
  });

  it('past timeoutS the signal fires and the attempt fails as timed out', async () => {
    let signal: AbortSignal | undefined;
    class Waits extends BaseWorker {
      async handleTask(_workitem: Workitem, ctx: TaskContext): Promise<Workitem> {
        signal = ctx.signal;
        await new Promise((_resolve, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
        );
        throw new Error('unreachable');
      }
    }
    const outcome = await runTask(Waits, input, { timeoutS: 0.05 });
    expect(signal?.aborted).toBe(true);
    expect(outcome).toMatchObject({ status: 'error', timedOut: true, attempts: 1 });
    expect((outcome.error as Error).name).toBe('TimeoutError');
    expect(outcome.result?.error).toBe('task timed out after 0.05 s');
  });

  it("publishes through the plugin's own reportResults, every workitem it sends", async () => {
    class Splits extends BaseWorker {
      async handleTask(workitem: Workitem): Promise<Workitem> {
        return workitem;
      }
      override async reportResults(workitem: Workitem, publish: PublishResult): Promise<void> {
        await publish({ ...workitem, part: 1 });
        await publish({ ...workitem, part: 2 });
      }
    }
    const outcome = await runTask(Splits, input);
    expect(outcome.published).toEqual([
      { ...input, part: 1 },
      { ...input, part: 2 },
    ]);
    expect(outcome.result).toEqual({ ...input, part: 1 });
  });

  it('runs setup once before and teardown once after, and records every line logged', async () => {
    const calls: string[] = [];
    class Hooks extends BaseWorker {
      override async setup(ctx: SetupContext): Promise<void> {
        calls.push(`setup ${ctx.type} ${ctx.instance} ${ctx.settings.scale}`);
        ctx.logger.warn('setting up');
      }
      async handleTask(workitem: Workitem, ctx: TaskContext): Promise<Workitem> {
        calls.push(`task ${ctx.taskId} ${ctx.settings.scale}`);
        ctx.logger.debug({ attempt: ctx.attempt }, 'handling');
        if (ctx.attempt === 1) throw new Error('once');
        return workitem;
      }
      override async teardown(): Promise<void> {
        calls.push('teardown');
      }
    }
    const outcome = await runTask(Hooks, input, {
      type: 'probe',
      instance: 'a',
      settings: { scale: '2' },
      taskId: 't-9',
      maxAttempts: 2,
    });
    expect(calls).toEqual(['setup probe a 2', 'task t-9 2', 'task t-9 2', 'teardown']);
    expect(outcome.logs).toEqual([
      { level: 'warn', msg: 'setting up', fields: {} },
      { level: 'debug', msg: 'handling', fields: { attempt: 1 } },
      { level: 'debug', msg: 'handling', fields: { attempt: 2 } },
    ]);
  });

  it('with setup false, neither setup nor teardown runs', async () => {
    const calls: string[] = [];
    class Hooks extends Doubler {
      override async setup(): Promise<void> {
        calls.push('setup');
      }
      override async teardown(): Promise<void> {
        calls.push('teardown');
      }
    }
    await runTask(Hooks, input, { setup: false });
    expect(calls).toEqual([]);
  });
});

describe('contexts and the recording logger', () => {
  it('createTaskContext has harmless defaults and takes what it is given', () => {
    const ctx = createTaskContext();
    expect(ctx).toMatchObject({ settings: {}, attempt: 1, taskId: 'test-task' });
    expect(ctx.signal.aborted).toBe(false);
    const logger = recordingLogger();
    const controller = new AbortController();
    const given = createTaskContext({
      settings: { a: 'b' },
      attempt: 3,
      taskId: 'x',
      signal: controller.signal,
      logger,
    });
    expect(given).toMatchObject({ settings: { a: 'b' }, attempt: 3, taskId: 'x' });
    expect(given.signal).toBe(controller.signal);
    given.logger.error(new Error('boom'));
    given.logger.info('plain');
    expect(logger.records).toMatchObject([
      { level: 'error', msg: undefined, fields: { err: { message: 'boom' } } },
      { level: 'info', msg: 'plain', fields: {} },
    ]);
  });

  it('createSetupContext names type test and no instance unless told', () => {
    expect(createSetupContext()).toMatchObject({ type: 'test', instance: undefined, settings: {} });
    expect(createSetupContext({ type: 'echo', instance: 'x' })).toMatchObject({
      type: 'echo',
      instance: 'x',
    });
  });
});
