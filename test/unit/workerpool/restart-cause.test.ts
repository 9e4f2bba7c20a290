import { describe, expect, it } from 'vitest';
import { restartCause } from '../../../src/workerpool/supervisor/restart-cause.js';
import type { ChildExit } from '../../../src/workerpool/supervisor/supervised-child.js';

const exit = (killedByPool?: string): ChildExit => ({
  code: null,
  signal: 'SIGKILL',
  ready: true,
  killedByPool,
});

describe('restartCause: why a replaced child ended, from a fixed set', () => {
  it('tells a stuck child, a protocol breach, a kill from outside, a crash and a failed start apart', () => {
    expect(restartCause('crash', exit('stuck past its task timeout'), false, true)).toBe('stuck');
    expect(restartCause('crash', exit('TQ_ERR_CHILD_MESSAGE'), false, false)).toBe('protocol');
    expect(restartCause('crash', exit('TQ_ERR_CHILD_HELD_TASKS'), false, false)).toBe('protocol');
    expect(restartCause('crash', exit(), true, false)).toBe('killed');
    expect(restartCause('killed', exit(), true, false)).toBe('killed');
    expect(restartCause('crash', { ...exit(), signal: null, code: 7 }, false, false)).toBe('crash');
    expect(restartCause('startup-failure', exit('not ready in time'), false, false)).toBe(
      'startup_failure',
    );
  });
});
