/**
 * Module hooks that let plain `node` run the chaos suite's TypeScript in place, with the
 * TypeScript compiler the repo already has (no tsx): `.ts` files are transpiled one by one
 * (types stripped, no type check: `npm run check-types` does that), and an import of `./x.js`
 * that has no `x.js` next to it loads `x.ts`, as NodeNext resolution does for tsc.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const OPTIONS = {
  module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2022,
  inlineSourceMap: true,
  inlineSources: true,
};

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const relative = /^(\.{1,2}\/|\/|file:)/.test(specifier);
    if (!relative || !specifier.endsWith('.js') || !context.parentURL) throw err;
    const url = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL);
    if (!existsSync(fileURLToPath(url))) throw err;
    return { url: url.href, format: 'module', shortCircuit: true };
  }
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const fileName = fileURLToPath(url);
  const source = await readFile(fileName, 'utf8');
  const { outputText } = ts.transpileModule(source, { fileName, compilerOptions: OPTIONS });
  return { format: 'module', source: outputText, shortCircuit: true };
}
