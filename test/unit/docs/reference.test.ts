import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SCHEMA } from '../../../src/common/config/schema.js';
import { ErrorCodes } from '../../../src/common/errors.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');

describe('reference documentation', () => {
  it('names every config key of the schema in docs/configuration.md, by section', () => {
    const doc = read('docs/configuration.md');
    const missing: string[] = [];
    for (const [section, keys] of Object.entries(SCHEMA)) {
      // Each section's table starts at its heading; the group keys' at "Type and instance".
      const heading = section === 'group' ? '## Type and instance sections' : `## \`[${section}]\``;
      const start = doc.indexOf(heading);
      const end = doc.indexOf('\n## ', start + 1);
      const table = start === -1 ? '' : doc.slice(start, end === -1 ? undefined : end);
      for (const key of Object.keys(keys)) {
        if (!table.includes(`| \`${key}\``)) missing.push(`[${section}] ${key}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('lists every error code in the table of docs/programs.md', () => {
    const doc = read('docs/programs.md');
    const missing = Object.keys(ErrorCodes).filter((code) => !doc.includes(`| \`${code}\``));
    expect(missing).toEqual([]);
  });
});
