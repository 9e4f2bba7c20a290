import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTaskContext, runTask } from '@taskqueue/plugin-api/testing';
import Worker from '../src/index.js';

// runTask runs a workitem the way the pool's worker child does (setup, the call under timeout,
// the retry decision, the error result, reportResults, teardown), with no broker.

describe('the worker', () => {
  it('counts the words of fields.text', async () => {
    const outcome = await runTask(Worker, { fields: { text: 'one two  three\nfour' } });
    assert.equal(outcome.status, 'result');
    assert.equal(outcome.result?.fields.word_count, 4);
  });

  it('skips words shorter than the setting min_length', async () => {
    const outcome = await runTask(
      Worker,
      { fields: { text: 'a bb ccc dddd' } },
      { settings: { min_length: '3' } },
    );
    assert.equal(outcome.result?.fields.word_count, 2);
  });

  it('refuses a workitem without text at once, with an error result and no retry', async () => {
    const outcome = await runTask(Worker, { fields: { text: 42 } }, { maxAttempts: 3 });
    assert.equal(outcome.status, 'error');
    assert.equal(outcome.retryable, false);
    assert.equal(outcome.attempts, 1);
    assert.match(String(outcome.result?.error), /fields\.text must be a string/);
    // The error result is the input workitem with "error" and "trace" added.
    assert.equal(outcome.result?.fields.text, 42);
  });

  it('will not start with a min_length that is not a number', async () => {
    await assert.rejects(
      runTask(Worker, { fields: { text: 'x' } }, { settings: { min_length: 'long' } }),
      /min_length = long/,
    );
  });

  it('stops when its signal has fired', async () => {
    const worker = new Worker();
    const ctx = createTaskContext({ signal: AbortSignal.abort() });
    await assert.rejects(worker.handleTask({ fields: { text: 'one two' } }, ctx), {
      name: 'AbortError',
    });
  });
});
