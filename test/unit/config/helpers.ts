import { fileURLToPath } from 'node:url';
import { TqError } from '../../../src/common/errors.js';

/** Absolute path of a file in test/fixtures/config. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/config/${name}`, import.meta.url));
}

/** The TqError `fn` throws; fails the test when it throws nothing or something else. */
export function thrownBy(fn: () => unknown): TqError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TqError) return err;
    throw err;
  }
  throw new Error('expected a TqError, nothing was thrown');
}

/** Joins lines, so that INI snippets in tests keep their line numbers readable. */
export function ini(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}
