import { describe, expect, it } from 'vitest';
import EchoWorker from '../../../plugins/echo/index.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function taskContext() {
  return {
    settings: {},
    logger: silent,
    signal: new AbortController().signal,
    attempt: 1,
    taskId: 't1',
  };
}

describe('taskqueue-plugin-echo', () => {
  it('returns its input workitem, unchanged', async () => {
    const worker = new EchoWorker();
    await worker.setup({ type: 'echo', instance: undefined, settings: {}, logger: silent });
    const workitem = { fields: { params: { worker_type: 'echo' }, answer: 42 }, wfid: 'w1' };
    const copy = structuredClone(workitem);

    const result = await worker.handleTask(workitem, taskContext());

    expect(result).toBe(workitem);
    expect(result).toEqual(copy);
  });

  it('returns workitems without fields too', async () => {
    const workitem = { worker_type: 'echo', body: [1, 2, 3] } as unknown as Parameters<
      EchoWorker['handleTask']
    >[0];
    expect(await new EchoWorker().handleTask(workitem)).toBe(workitem);
  });
});
