import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../../bench/src/options.js';

describe('bench options', () => {
  it('takes a soak warm-up shorter than the soak', () => {
    const options = parseOptions(['--soak', '3600', '--warmup', '600']);
    expect(options?.soakSeconds).toBe(3600);
    expect(options?.warmupSeconds).toBe(600);
    expect(parseOptions(['--soak', '3600'])?.warmupSeconds).toBeUndefined();
  });

  it('refuses a warm-up that leaves nothing to measure, or without a soak', () => {
    expect(() => parseOptions(['--soak', '600', '--warmup', '600'])).toThrow(
      '--warmup needs a --soak longer than it',
    );
    expect(() => parseOptions(['--warmup', '60'])).toThrow(
      '--warmup needs a --soak longer than it',
    );
    expect(() => parseOptions(['--soak', '600', '--warmup', '0'])).toThrow(
      '--warmup needs a positive number',
    );
  });
});
