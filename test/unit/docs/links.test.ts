import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The documents whose links must resolve inside the repository. */
const documents = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
  'bench/README.md',
  'bench/RESULTS.md',
  'bench/FINDINGS.md',
  'test/chaos/README.md',
];

/** Relative link targets of a markdown text: `[text](target)`, without anchors or titles. */
function relativeLinks(text: string): string[] {
  const withoutCode = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...withoutCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1]!.split('#')[0]!)
    .filter((target) => target !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe('documentation links', () => {
  it.each(documents)('every relative link of %s names a file of the repository', (doc) => {
    const text = readFileSync(join(root, doc), 'utf8');
    const dead = relativeLinks(text).filter((target) => {
      const resolved = join(root, dirname(doc), target);
      const inRepo = !relative(root, resolved).startsWith('..');
      return !inRepo || !existsSync(resolved);
    });
    expect(dead).toEqual([]);
  });

  it('finds the links it checks', () => {
    expect(relativeLinks('see [a](docs/a.md#x), [b](https://example.org), `[c](d.md)`')).toEqual([
      'docs/a.md',
    ]);
  });
});
