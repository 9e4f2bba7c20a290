import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScaffoldOptions } from './args.js';

/** The templates, shipped in the package beside dist/. */
export const TEMPLATES_DIR = fileURLToPath(new URL('../templates/', import.meta.url));

/**
 * Template files whose real names npm would not publish or would act on: a `.gitignore` in a
 * package is left out of its tarball, so the template is stored without the dot.
 */
const RENAMED: Record<string, string> = { gitignore: '.gitignore' };

/** The target exists with files in it and `--force` was not given. */
export class DirectoryNotEmptyError extends Error {
  override name = 'DirectoryNotEmptyError';
}

/** Writes the plugin package; returns the files written, relative to `options.dir`, sorted. */
export function generatePlugin(options: ScaffoldOptions, templates = TEMPLATES_DIR): string[] {
  if (!options.force && listDir(options.dir).length > 0) {
    throw new DirectoryNotEmptyError(
      `${options.dir} exists and is not empty; choose another --dir, or --force to write into it`,
    );
  }
  const written: string[] = [];
  for (const source of templateFiles(templates)) {
    const name = relative(templates, source);
    const target = join(options.dir, dirname(name), RENAMED[basename(name)] ?? basename(name));
    const text = fill(readFileSync(source, 'utf8'), options, name.endsWith('.json'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    written.push(relative(options.dir, target));
  }
  return written.sort();
}

/** Replaces `{{type}}`, `{{packageName}}` and `{{apiSpec}}`; inside JSON strings, escaped. */
function fill(text: string, options: ScaffoldOptions, json: boolean): string {
  const values: Record<string, string> = {
    type: options.type,
    packageName: options.packageName,
    apiSpec: options.apiSpec,
  };
  return text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => {
    const value = values[key];
    if (value === undefined) return whole;
    return json ? JSON.stringify(value).slice(1, -1) : value;
  });
}

function templateFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? templateFiles(path) : [path];
  });
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
