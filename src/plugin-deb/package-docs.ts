import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * The two files Debian policy asks of every binary package in /usr/share/doc/<package>: the
 * copyright (from the npm license and author, with the tarball's own license text when it has
 * one) and a Debian changelog of one entry saying where the package came from.
 */
export interface PackageDocs {
  packageName: string;
  version: string;
  maintainer: string;
  npmName: string;
  npmVersion: string;
  license: string | undefined;
  author: string | undefined;
  homepage: string | undefined;
  /** The unpacked npm package, searched for LICENSE, LICENCE, COPYING. */
  packageDir: string;
  /** The changelog entry's date. */
  date: Date;
}

/** debian/copyright in the machine-readable format (copyright-format 1.0). */
export function copyrightFile(docs: PackageDocs): string {
  const text = licenseText(docs.packageDir);
  const body = text
    ? text
        .trimEnd()
        .split('\n')
        .map((line) => (line.trim() === '' ? ' .' : ` ${line}`))
        .join('\n')
    : ` See the license "${docs.license ?? 'unknown'}" of the npm package ${docs.npmName}.`;
  return `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: ${docs.npmName}
Source: ${docs.homepage ?? `https://www.npmjs.com/package/${docs.npmName}`}

Files: *
Copyright: ${docs.author ?? 'the authors of the npm package'}
License: ${docs.license ?? 'unknown'}
${body}
`;
}

/** changelog.Debian.gz: one entry, gzip'd without a name or time (reproducible). */
export function changelogGz(docs: PackageDocs): Buffer {
  const date = docs.date.toUTCString().replace(/GMT$/, '+0000');
  const text = `${docs.packageName} (${docs.version}) unstable; urgency=medium

  * Packaged from the npm package ${docs.npmName}@${docs.npmVersion}
    by taskqueue-plugin-deb.

 -- ${docs.maintainer}  ${date}
`;
  return gzipSync(text, { level: 9 });
}

function licenseText(dir: string): string | undefined {
  const name = readdirSync(dir).find((file) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(file));
  if (name === undefined || !existsSync(join(dir, name))) return undefined;
  return readFileSync(join(dir, name), 'utf8');
}
