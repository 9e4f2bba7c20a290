#!/usr/bin/env node
/**
 * Builds the browser dashboard (src/dashboard, preact + uPlot) into dist/dashboard/:
 * index.html, assets/app.js and assets/app.css (uPlot's CSS bundled in), nothing fetched at run
 * time, and assets/LICENSES.txt: the licenses of what is bundled (preact, uPlot; both MIT). taskqueue-api serves it at / (docs/api.md). Run by `npm run build` and ensure-ready.
 */
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'src', 'dashboard');
const out = path.join(root, 'dist', 'dashboard');

await rm(out, { recursive: true, force: true });
await mkdir(path.join(out, 'assets'), { recursive: true });
await build({
  entryPoints: { app: path.join(source, 'main.tsx') },
  outdir: path.join(out, 'assets'),
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});
const bundled = ['preact', 'uplot'];
const licenses = await Promise.all(
  bundled.map(async (name) => {
    const text = await readFile(path.join(root, 'node_modules', name, 'LICENSE'), 'utf8');
    return `${name}\n${'='.repeat(name.length)}\n\n${text.trim()}\n`;
  }),
);
await writeFile(path.join(out, 'assets', 'LICENSES.txt'), licenses.join('\n\n'));
// index.html last: ensure-ready takes its time as the time of the whole build.
await copyFile(path.join(source, 'index.html'), path.join(out, 'index.html'));
console.log(`build-dashboard: ${path.relative(root, out)}/`);
