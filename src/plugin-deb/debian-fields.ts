import { readFileSync } from 'node:fs';
import { apiVersion } from '@taskqueue/plugin-api';
import semver from 'semver';

/**
 * The first taskqueue release that provided each plugin API version, oldest first: a plugin's
 * package depends on the first release whose API satisfies its range. Add a row with every
 * API release (a unit test checks that the last row is this host's API).
 */
export const API_RELEASES: ReadonlyArray<{ api: string; taskqueue: string }> = [
  { api: '1.0.0', taskqueue: '0.1.0' },
  { api: '1.1.0', taskqueue: '0.2.0' },
];

/** Debian's nodejs version that the host itself needs (debian/control). */
const HOST_NODE = '20.19';

/**
 * The Debian name of an npm package: lowercase, the scope joined by a hyphen
 * (`@acme/taskqueue-plugin-ocr` → `acme-taskqueue-plugin-ocr`), other characters Debian does not
 * allow in a name (`_`, `~`) as hyphens.
 */
export function debianPackageName(npmName: string): string {
  return npmName
    .toLowerCase()
    .replace(/^@([^/]+)\//, '$1-')
    .replace(/[^a-z0-9+.-]/g, '-');
}

/**
 * The Debian version of an npm version: a pre-release sorts before its release in semver, and
 * `~` does that in Debian (`1.2.0-rc.1` → `1.2.0~rc.1`); `revision` follows the last hyphen.
 * Undefined when `npmVersion` is not semver.
 */
export function debianVersion(npmVersion: string, revision: string): string | undefined {
  const parsed = semver.parse(npmVersion);
  if (parsed === null) return undefined;
  const core = `${parsed.major}.${parsed.minor}.${parsed.patch}`;
  const pre = parsed.prerelease.length > 0 ? `~${parsed.prerelease.join('.')}` : '';
  const build = parsed.build.length > 0 ? `+${parsed.build.join('.')}` : '';
  return `${core}${pre}${build}-${revision}`;
}

/** A Debian revision: what may follow the last hyphen of a version. */
export const REVISION_PATTERN = /^[0-9A-Za-z.+~]+$/;

/**
 * The lowest taskqueue-common version whose plugin API satisfies `apiRange`, or undefined when
 * none does. This host's API counts too (as its own version) when the table has no row for it.
 */
export function hostRequirement(
  apiRange: string,
  releases: ReadonlyArray<{ api: string; taskqueue: string }> = API_RELEASES,
): string | undefined {
  const rows = releases.some((row) => row.api === apiVersion)
    ? releases
    : [...releases, { api: apiVersion, taskqueue: hostVersion() }];
  return rows.find((row) => semver.satisfies(row.api, apiRange))?.taskqueue;
}

/**
 * The nodejs version a plugin needs: the host's, or the lowest its `engines.node` allows when
 * that is higher.
 */
export function nodeRequirement(engines: unknown): string {
  const range = (engines as { node?: unknown } | undefined)?.node;
  if (typeof range !== 'string' || semver.validRange(range) === null) return HOST_NODE;
  const lowest = semver.minVersion(range);
  const host = semver.coerce(HOST_NODE)!;
  if (lowest === null || semver.lte(lowest, host)) return HOST_NODE;
  return lowest.version;
}

/** This host's version: the package.json of the tree this program runs from. */
function hostVersion(): string {
  const manifest = new URL('../../package.json', import.meta.url);
  return String((JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown }).version);
}
