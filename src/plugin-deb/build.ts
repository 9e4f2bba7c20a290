import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { TqError } from '../common/errors.js';
import { DEBIAN_PLUGIN_PATH } from '../workerpool/discovery/discovery.js';
import { controlFile, maintainerFromAuthor, oneLine } from './control.js';
import {
  debianPackageName,
  debianVersion,
  hostRequirement,
  nodeRequirement,
} from './debian-fields.js';
import { postinst, postrm } from './maintainer-scripts.js';
import { changelogGz, copyrightFile } from './package-docs.js';
import { checkPlugin, refuseNativeCode } from './plugin-check.js';
import { unpackTarball } from './tarball.js';

export interface BuildOptions {
  /** The plugin's npm tarball (`npm pack` output). */
  tarball: string;
  /** Where the .deb goes. */
  outDir: string;
  /** The Debian revision, after the npm version's hyphen. */
  revision: string;
  /** `Name <mail>`; else DEBFULLNAME/DEBEMAIL, else the npm author with an address. */
  maintainer: string | undefined;
  env?: NodeJS.ProcessEnv;
}

export interface Built {
  debFile: string;
  packageName: string;
  version: string;
  /** Where the package installs the plugin. */
  installDir: string;
}

/** The npm manifest fields the build reads beyond what discovery reads. */
interface Manifest {
  description?: unknown;
  dependencies?: Record<string, unknown>;
  optionalDependencies?: Record<string, unknown>;
  engines?: unknown;
  author?: unknown;
  homepage?: unknown;
  license?: unknown;
}

/**
 * Builds the Debian package of a plugin's npm tarball: the package under DEBIAN_PLUGIN_PATH with
 * its runtime dependencies (npm install --omit=dev, no scripts), every file root's and not
 * writable by others (the pool's trust rule), maintainer scripts that reload a running pool.
 */
export function buildPluginDeb(options: BuildOptions): Built {
  const env = options.env ?? process.env;
  const work = mkdtempSync(join(tmpdir(), 'taskqueue-plugin-deb-'));
  try {
    const unpacked = unpackTarball(options.tarball, work);
    const plugin = checkPlugin(unpacked, options.tarball);
    const manifest = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as Manifest;
    const version = debianVersion(plugin.version, options.revision);
    if (version === undefined) {
      throw new TqError(
        'TQ_ERR_PLUGIN_DEB_INPUT',
        `${options.tarball}: version "${plugin.version}" is not semver`,
      );
    }
    const maintainer =
      options.maintainer ?? maintainerFromEnv(env) ?? maintainerFromAuthor(manifest.author);
    if (maintainer === undefined) {
      throw new TqError(
        'TQ_ERR_CLI_USAGE',
        `${plugin.name} names no author with an address: give --maintainer "Name <mail>" (or set DEBFULLNAME and DEBEMAIL)`,
      );
    }
    // apiIncompatibility passed, so this host's API fits the range and a row is found.
    const hostVersion = hostRequirement(plugin.apiRange!)!;

    installDependencies(unpacked, manifest, options.tarball);
    refuseNativeCode(unpacked, options.tarball);

    const root = join(work, 'root');
    const installDir = join(DEBIAN_PLUGIN_PATH, plugin.name);
    const staged = join(root, installDir);
    mkdirSync(dirname(staged), { recursive: true, mode: 0o755 });
    renameSync(unpacked, staged);
    const packageName = debianPackageName(plugin.name);
    const homepage = typeof manifest.homepage === 'string' ? oneLine(manifest.homepage) : undefined;
    const docs = {
      packageName,
      version,
      maintainer,
      npmName: plugin.name,
      npmVersion: plugin.version,
      license: typeof manifest.license === 'string' ? oneLine(manifest.license) : undefined,
      author: authorText(manifest.author),
      homepage,
      packageDir: staged,
      date: buildDate(env),
    };
    const docDir = join(root, 'usr/share/doc', packageName);
    mkdirSync(docDir, { recursive: true });
    writeFileSync(join(docDir, 'copyright'), copyrightFile(docs));
    writeFileSync(join(docDir, 'changelog.Debian.gz'), changelogGz(docs));
    normaliseModes(root);

    const control = join(root, 'DEBIAN');
    mkdirSync(control, { mode: 0o755 });
    writeFileSync(
      join(control, 'control'),
      controlFile({
        packageName,
        version,
        maintainer,
        hostVersion,
        nodeVersion: nodeRequirement(manifest.engines),
        installedSizeKib: sizeKib(staged),
        summary: summaryOf(manifest.description, plugin.type),
        npmName: plugin.name,
        npmVersion: plugin.version,
        type: plugin.type,
        homepage,
      }),
      { mode: 0o644 },
    );
    writeFileSync(join(control, 'postinst'), postinst(packageName), { mode: 0o755 });
    writeFileSync(join(control, 'postrm'), postrm(packageName), { mode: 0o755 });

    mkdirSync(options.outDir, { recursive: true });
    const debFile = resolve(options.outDir, `${packageName}_${version}_all.deb`);
    run(
      'dpkg-deb',
      ['--root-owner-group', '-Zxz', '--build', root, debFile],
      work,
      'dpkg-deb (package dpkg) is needed to build the package',
    );
    return { debFile, packageName, version, installDir };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function maintainerFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const name = env.DEBFULLNAME?.trim();
  const mail = env.DEBEMAIL?.trim();
  if (!mail) return undefined;
  // DEBEMAIL may hold the whole "Name <mail>" (debchange(1)).
  if (mail.includes('<')) return mail;
  return name ? `${name} <${mail}>` : undefined;
}

/** npm's author as text: "Name <mail>" or { name, email }. */
function authorText(author: unknown): string | undefined {
  if (typeof author === 'string') return oneLine(author) || undefined;
  const { name, email } = (author ?? {}) as { name?: unknown; email?: unknown };
  if (typeof name !== 'string') return undefined;
  return typeof email === 'string' ? `${oneLine(name)} <${email}>` : oneLine(name);
}

/** SOURCE_DATE_EPOCH when set (reproducible builds), else now. */
function buildDate(env: NodeJS.ProcessEnv): Date {
  const epoch = Number(env.SOURCE_DATE_EPOCH);
  return env.SOURCE_DATE_EPOCH && Number.isInteger(epoch) ? new Date(epoch * 1000) : new Date();
}

function summaryOf(description: unknown, type: string): string {
  const text = typeof description === 'string' ? oneLine(description) : '';
  return text || `taskqueue worker plugin for the type ${type}`;
}

/**
 * The runtime dependencies into the package's own node_modules, as npm resolves them (an
 * npm-shrinkwrap.json in the tarball pins them). Dev and peer dependencies stay out: the host
 * provides @taskqueue/plugin-api. No scripts run: they could do anything on the build machine.
 */
function installDependencies(dir: string, manifest: Manifest, from: string): void {
  const wanted = [
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
  ];
  if (wanted.length === 0) return;
  const hadLock = existsSync(join(dir, 'package-lock.json'));
  run(
    'npm',
    ['install', '--omit=dev', '--omit=peer', '--ignore-scripts', '--no-audit', '--no-fund'],
    dir,
    `npm is needed to bundle the dependencies of ${from} (${wanted.join(', ')})`,
  );
  // npm's bookkeeping and command links: nothing at run time uses them.
  if (!hadLock) rmSync(join(dir, 'package-lock.json'), { force: true });
  rmSync(join(dir, 'node_modules', '.package-lock.json'), { force: true });
  rmSync(join(dir, 'node_modules', '.bin'), { recursive: true, force: true });
}

/** Runs a build tool with its output on stderr (stdout is the .deb's path). */
function run(command: string, args: string[], cwd: string, missing: string): void {
  try {
    execFileSync(command, args, { cwd, stdio: ['ignore', 2, 2] });
  } catch (err) {
    const enoent = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new TqError(
      'TQ_ERR_PLUGIN_DEB_BUILD',
      enoent ? missing : `${command} ${args[0]} failed (${(err as Error).message.split('\n')[0]})`,
      { cause: err },
    );
  }
}

/**
 * 0755 for directories and files someone may execute, 0644 for the rest: readable by every
 * group's user, writable by root alone (dpkg-deb --root-owner-group makes root the owner).
 */
function normaliseModes(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) normaliseModes(path);
    else chmodSync(path, (lstatSync(path).mode & 0o111) !== 0 ? 0o755 : 0o644);
  }
}

/** Installed-Size: the files' sizes in KiB, each rounded up, as dpkg-gencontrol estimates. */
function sizeKib(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += 1 + sizeKib(path);
    else total += Math.ceil(lstatSync(path).size / 1024);
  }
  return total;
}
