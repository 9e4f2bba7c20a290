import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bearerMatches, readMetricsToken } from '../../../../src/common/metrics/token.js';

const dir = mkdtempSync(join(tmpdir(), 'tq-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('the metrics token', () => {
  const token = 'a3f1c9d2e8b74c5aa3f1c9d2e8b74c5a';
  const digest = readMetricsToken(file('good', `${token}\n`));

  it('is the first line of the file, and a request must carry it as a bearer token', () => {
    expect(bearerMatches(`Bearer ${token}`, digest)).toBe(true);
    expect(bearerMatches(`bearer ${token}`, digest)).toBe(true);
    expect(bearerMatches(`Bearer ${token}x`, digest)).toBe(false);
    expect(bearerMatches(`Bearer ${token.slice(1)}`, digest)).toBe(false);
    expect(bearerMatches(`Basic ${token}`, digest)).toBe(false);
    expect(bearerMatches(token, digest)).toBe(false);
    expect(bearerMatches('Bearer ', digest)).toBe(false);
    expect(bearerMatches(undefined, digest)).toBe(false);
  });

  it.each([
    ['missing', join(dir, 'nothing-here')],
    ['empty', file('empty', '')],
    ['too short', file('short', 'abc123\n')],
    ['blank first line', file('blank', `\n${token}\n`)],
  ])('refuses a token file that is %s, with TQ_ERR_METRICS_TOKEN', (_what, path) => {
    expect(() => readMetricsToken(path)).toThrow(
      expect.objectContaining({ code: 'TQ_ERR_METRICS_TOKEN' }),
    );
  });
});
