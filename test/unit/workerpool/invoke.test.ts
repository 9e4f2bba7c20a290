import type { TaskContext, Workitem } from '@taskqueue/plugin-api';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/common/logger.js';
import { invokePlugin, LazyAbort } from '../../../src/workerpool/child/invoke.js';

describe('LazyAbort', () => {
  it('gives a signal born aborted, with the reason, when aborted before anyone looked', () => {
    const abort = new LazyAbort();
    const reason = new Error('timed out');
    abort.abort(reason);
    abort.abort(new Error('later'));
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe(reason);
  });

  it('aborts a signal already handed out', () => {
    const abort = new LazyAbort();
    const { signal } = abort;
    expect(signal.aborted).toBe(false);
    abort.abort('stop');
    expect(signal.aborted).toBe(true);
    expect(abort.signal).toBe(signal);
  });
});

describe('invokePlugin', () => {
  const options = (abort: LazyAbort, timeoutS?: number) => ({
    settings: {},
    logger: () => createLogger('test', 'silent'),
    abort,
    attempt: 2,
    taskId: 't1',
    timeoutS,
    graceMs: 50,
  });

  it('gives the plugin the signal, logger, attempt and task id it asks for', async () => {
    const seen: unknown[] = [];
    const worker = {
      async handleTask(workitem: Workitem, ctx: TaskContext) {
        seen.push(ctx.signal.aborted, typeof ctx.logger.info, ctx.attempt, ctx.taskId);
        return workitem;
      },
    };
    const outcome = await invokePlugin(worker, { fields: { a: 1 } }, options(new LazyAbort()));
    expect(outcome).toEqual({ kind: 'result', workitem: { fields: { a: 1 } } });
    expect(seen).toEqual([false, 'function', 2, 't1']);
  });

  it("gives the settings and the task's signal, and makes the logger only when the plugin reads it", async () => {
    let loggersMade = 0;
    const abort = new LazyAbort();
    const seen: unknown[] = [];
    const worker = {
      async handleTask(workitem: Workitem, ctx: TaskContext) {
        seen.push(ctx.settings.greeting, loggersMade);
        ctx.logger.info('reading the logger makes it');
        seen.push(loggersMade, ctx.signal === abort.signal);
        return workitem;
      },
    };
    await invokePlugin(
      worker,
      { fields: {} },
      {
        ...options(abort),
        settings: { greeting: 'hello' },
        logger: () => {
          loggersMade++;
          return createLogger('test', 'silent');
        },
      },
    );
    expect(seen).toEqual(['hello', 0, 1, true]);
  });

  it('fires the signal at the timeout, and fails the attempt', async () => {
    const worker = {
      handleTask: (_w: Workitem, ctx: TaskContext) =>
        new Promise<never>((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
        ),
    };
    const outcome = await invokePlugin(worker, { fields: {} }, options(new LazyAbort(), 0.05));
    expect(outcome.kind).toBe('timeout');
    expect(String((outcome as { error: Error }).error.message)).toBe('task timed out after 0.05 s');
  });
});
