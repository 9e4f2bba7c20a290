import { describe, expect, it } from 'vitest';
import * as copy from '../../../src/common/worker-type.js';
import * as scaffold from '../../../src/create-taskqueue-plugin/worker-type.js';

/**
 * The scaffold carries its own copy of the worker type grammar (it is published alone); the
 * copy must accept and refuse what the host does.
 */
describe("the scaffold's copy of the worker type grammar", () => {
  it('has the same pattern and reserved segments', () => {
    expect(scaffold.WORKER_TYPE_PATTERN.source).toBe(copy.WORKER_TYPE_PATTERN.source);
    expect(scaffold.RESERVED_TYPE_SEGMENTS).toEqual(copy.RESERVED_TYPE_SEGMENTS);
  });

  it('accepts and refuses the same types', () => {
    const samples = [
      'echo',
      'build-arm64',
      'a.b_c-d',
      'retry',
      'x.Retry',
      'x.dead',
      'x.deadline',
      'a.b.invalid',
      '.hidden',
      '-x',
      '',
      'with space',
      'ü',
      'a'.repeat(201),
      'a'.repeat(202),
    ];
    for (const type of samples) {
      expect(scaffold.workerTypeProblem(type) === undefined, type).toBe(copy.isWorkerType(type));
    }
  });
});
