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

/** The long names of the options a source file gives yargs: `.option('wait', …)`. */
function optionsOf(path: string): string[] {
  return [...read(path).matchAll(/\.option\(\s*'([a-z-]+)'\s*,\s*\{([^}]*)/g)].map((m) => {
    const alias = /alias:\s*'([a-z-]+)'/.exec(m[2]!)?.[1];
    // A one-letter option with a long alias (-c, --config) is written as its alias.
    return m[1]!.length === 1 && alias !== undefined ? alias : m[1]!;
  });
}

/** A name as roff writes it: every hyphen escaped. */
const roff = (name: string) => name.replaceAll('-', '\\-');

describe('man pages', () => {
  it('taskqueue(1) names every command and option of src/cli/main.ts', () => {
    const page = read('docs/man/taskqueue.1');
    const commands = [...read('src/cli/main.ts').matchAll(/\.command\(\s*'([a-z-]+)/g)].map(
      (m) => m[1]!,
    );
    const options = optionsOf('src/cli/main.ts');
    expect(options).toContain('wait');
    const missing = [
      ...commands.filter((c) => !page.includes(`.B ${roff(c)}`)),
      ...options.filter((o) => !page.includes(`\\-\\-${roff(o)}`)),
    ];
    expect(missing).toEqual([]);
  });

  it("the daemons' pages name every option of src/common/daemon.ts", () => {
    const options = optionsOf('src/common/daemon.ts');
    expect(options).toEqual(['config', 'foreground']);
    for (const page of ['taskqueue-dispatcher.8', 'taskqueue-workerpool.8', 'taskqueue-api.8']) {
      const text = read(`docs/man/${page}`);
      expect(options.filter((o) => !text.includes(`\\-\\-${roff(o)}`))).toEqual([]);
    }
  });

  it('every environment variable of --help is in docs/programs.md and the man pages', () => {
    const help = read('src/common/help.ts');
    const variables = [
      ...new Set([...help.matchAll(/(?:^|`) {2}([A-Z][A-Z_]+) {2,}/gm)].map((m) => m[1]!)),
    ];
    expect(variables).toContain('TASKQUEUE_AMQP_URL');
    const programs = read('docs/programs.md');
    const pages = [
      'taskqueue.1',
      'taskqueue-dispatcher.8',
      'taskqueue-workerpool.8',
      'taskqueue-api.8',
    ]
      .map((page) => read(`docs/man/${page}`))
      .join('\n');
    const missing = variables.filter(
      (v) => !programs.includes(`\`${v}\``) || !pages.includes(`\n.B ${v}\n`),
    );
    expect(missing).toEqual([]);
  });
});
