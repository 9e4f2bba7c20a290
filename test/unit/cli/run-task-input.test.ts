import { describe, expect, it } from 'vitest';
import { mapBounded } from '../../../src/cli/plugin-load-check.js';
import { asksForStdin } from '../../../src/cli/stdin-fields.js';
import { taskInput } from '../../../src/cli/task-input.js';
import { isOneShotReply } from '../../../src/workerpool/one-shot-ipc.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

describe('run-task input', () => {
  it('wraps fields as submit does, and takes a JSON object with "fields" as a whole workitem', () => {
    expect(taskInput('echo', undefined)).toEqual({ fields: { params: { worker_type: 'echo' } } });
    expect(taskInput('echo', '{"n":1}')).toEqual({
      fields: { n: 1, params: { worker_type: 'echo' } },
    });
    const whole = { fields: { n: 1 }, wfid: 'x' };
    expect(taskInput('echo', JSON.stringify(whole))).toEqual(whole);
  });

  it('refuses what is not a JSON object, and "fields" that is not one, as usage errors', () => {
    for (const text of ['nope', '[1]', '3', 'null', '{"fields":[1]}', '{"fields":"x"}'])
      expect(
        codeOf(() => taskInput('echo', text)),
        text,
      ).toBe('TQ_ERR_CLI_USAGE');
    expect(codeOf(() => taskInput('not a type!', '{}'))).toBe('TQ_ERR_CLI_USAGE');
  });

  it('reads - after run-task as stdin', () => {
    expect(asksForStdin(['run-task', 'echo', '-'], 'run-task')).toBe(true);
    expect(asksForStdin(['run-task', 'echo', '{}'], 'run-task')).toBe(false);
    expect(asksForStdin(['submit', 'echo', '-'], 'run-task')).toBe(false);
  });
});

describe("a one-shot child's replies", () => {
  it('are checked by shape: a child runs plugin code', () => {
    expect(isOneShotReply({ kind: 'loaded' })).toBe(true);
    expect(isOneShotReply({ kind: 'attempt', attempt: 2 })).toBe(true);
    expect(isOneShotReply({ kind: 'results', status: 'error', published: [{ fields: {} }] })).toBe(
      true,
    );
    expect(isOneShotReply({ kind: 'fatal', code: 'TQ_ERR_PLUGIN_LOAD', message: 'x' })).toBe(true);
    for (const bad of [
      null,
      [],
      { kind: 'ready' },
      { kind: 'attempt', attempt: '2' },
      { kind: 'results', status: 'ok', published: [] },
      { kind: 'results', status: 'result', published: [1] },
      { kind: 'results', status: 'result', published: [], failure: 3 },
      { kind: 'fatal', code: 1, message: 'x' },
    ])
      expect(isOneShotReply(bad), JSON.stringify(bad)).toBe(false);
  });
});

describe('mapBounded', () => {
  it('keeps the order of the items and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const results = await mapBounded([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
    expect(await mapBounded([], 3, async () => 1)).toEqual([]);
  });
});
