import { describe, expect, it } from 'vitest';
import {
  MAX_INTERPOLATED_LENGTH,
  MAX_INTERPOLATION_WORK,
} from '../../../src/common/config/interpolate.js';
import { parseConfigText } from '../../../src/common/config/load.js';
import type { ConfigProblem } from '../../../src/common/config/problems.js';
import { exitStatusFor } from '../../../src/common/exit.js';
import { ini, thrownBy } from './helpers.js';

/**
 * A [worker1] whose key `l<levels>` refers `fanout` times to `l<levels-1>`, …, down to `l0`: the
 * file grows by levels × fanout while the value grows by fanout^levels.
 */
function bomb(levels: number, fanout: number, leaf: string): string {
  const lines = ['[worker1]', `l0 = ${leaf}`];
  for (let level = 1; level <= levels; level++) {
    lines.push(`l${level} = ${`%(l${level - 1})s`.repeat(fanout)}`);
  }
  return ini(...lines);
}

describe('interpolation limits', () => {
  it('refuses a value that expands past the length cap with TQ_ERR_CONFIG_VALUE (exit 78)', () => {
    // 6 levels of 10: a file of 300 bytes, a value of 10^6 × 4 characters.
    const err = thrownBy(() => parseConfigText(bomb(6, 10, 'xxxx'), 'f.ini', {}));
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expect(exitStatusFor(err)).toBe(78);
    const problems = err.details.problems as ConfigProblem[];
    expect(problems[0]).toMatchObject({ file: 'f.ini', section: 'worker1' });
    expect(problems[0]!.key).toMatch(/^l[0-9]$/);
    expect(err.message).toContain(`at most ${MAX_INTERPOLATED_LENGTH} characters`);
  });

  it('refuses the 1 KB file of 10 levels of 10 references at once', () => {
    const started = Date.now();
    const err = thrownBy(() => parseConfigText(bomb(10, 10, 'x'), 'f.ini', {}));
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('bounds the work of references to empty values, which produce nothing', () => {
    // 10^6 references in all for l6, and the result is empty.
    const err = thrownBy(() => parseConfigText(bomb(6, 10, ''), 'f.ini', {}));
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expect(err.message).toContain(`at most ${MAX_INTERPOLATION_WORK} steps`);
  });

  it('bounds the work over the whole file: a [DEFAULT] value looked up from many sections', () => {
    // Each lookup stays under the per-value caps (10^4 references to an empty value, about
    // 50 000 steps); 400 sections each look it up.
    const sections = Array.from({ length: 400 }, (_, i) => `[t${i}]`);
    const text = ini(
      '[DEFAULT]',
      'e =',
      `a = ${'%(e)s'.repeat(10)}`,
      `b = ${'%(a)s'.repeat(10)}`,
      `c = ${'%(b)s'.repeat(10)}`,
      `d = ${'%(c)s'.repeat(10)}`,
      ...sections,
    );
    const err = thrownBy(() => parseConfigText(text, 'f.ini', {}));
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expect(err.message).toContain('over the whole file');
  });

  it('still expands a value just under the cap', () => {
    const leaf = 'y'.repeat(MAX_INTERPOLATED_LENGTH / 4);
    const config = parseConfigText(
      ini('[worker1]', `a = ${leaf}`, 'b = %(a)s%(a)s%(a)s%(a)s'),
      'f.ini',
      {},
    );
    expect(config.groupsFor('worker1')[0]!.settings.b).toHaveLength(MAX_INTERPOLATED_LENGTH);
  });
});
