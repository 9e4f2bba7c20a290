/**
 * Staging for `npm start` and the tests when the pool could not run the checkout as it is:
 *
 *  - as root, when the children's user (`taskqueue` or `nobody`) cannot read it (a clone in
 *    `mktemp -d` or under /root, mode 0700): they could not load a line of it;
 *  - as anyone, when the pool does not trust it (discovery/trust.ts: below a world-writable
 *    directory such as /tmp or /var/tmp, or owned by another user): it would refuse its plugins.
 *
 * Rather than loosen the operator's directories, the build is copied into a directory the pool
 * trusts and the children can read: root-owned 0755 under /var/lib/taskqueue-dev for root (not
 * /var/tmp: world-writable), else under $XDG_RUNTIME_DIR or ~/.cache, owned by the caller. Only
 * what runs is copied: dist/, the workspace packages, the production dependencies
 * (`npm ls --omit=dev`), and `extra` paths. Nothing of the development tooling (dev/) is copied:
 * it runs from the checkout. Nothing is staged when the checkout is fine.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
// The pool's own rules, from the product's build (dev/tsconfig.json references the product, so
// `tsc -b` builds it first): the same path from dev/src (tests) and dev/dist.
import { trustPolicyFor, untrustedReason } from '../../dist/workerpool/discovery/trust.js';
import { type Reader, readerFor, unreadableReason } from '../../dist/workerpool/readable.js';

export const STAGE_PARENT = '/var/lib/taskqueue-dev';

export interface Stage {
  /** Where the programs are to be run from: the staged copy, or the checkout itself. */
  root: string;
  /** Why the checkout was staged (the path that blocks the children's user), if it was. */
  reason: string | undefined;
  /** Removes the staged copy (nothing when there is none); idempotent. */
  remove(): void;
}

/** The user a root pool gives a group without `user`, as identity.ts picks it. */
function fallbackReader(): Reader | undefined {
  for (const user of ['taskqueue', 'nobody']) {
    try {
      const id = (flag: string) =>
        Number(execFileSync('id', [flag, user], { encoding: 'utf8', stdio: 'pipe' }).trim());
      return readerFor({ user, uid: id('-u'), gid: id('-g') });
    } catch {
      // no such user: the next one
    }
  }
  return undefined;
}

/** Stage directories of processes gone (a run stopped by SIGKILL or a second Ctrl-C). */
function removeStale(parent: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^stage-(\d+)-/.exec(name)?.[1]);
    if (!pid) continue;
    try {
      process.kill(pid, 0);
    } catch (err) {
      // EPERM: alive, someone else's.
      if ((err as NodeJS.ErrnoException).code === 'ESRCH')
        rmSync(join(parent, name), { recursive: true, force: true });
    }
  }
}

/** The first place for stage directories that the pool trusts, created 0755; or none. */
function stageParent(isRoot: boolean): string | undefined {
  const candidates = isRoot
    ? [STAGE_PARENT]
    : [process.env.XDG_RUNTIME_DIR, join(homedir(), '.cache')]
        .filter((dir): dir is string => Boolean(dir))
        .map((dir) => join(dir, 'taskqueue-dev'));
  for (const dir of candidates) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      chmodSync(dir, 0o755);
    } catch {
      continue;
    }
    if (!untrustedReason(dir, trustPolicyFor())) return dir;
  }
  return undefined;
}

/** The production dependencies' directories, relative to `root` (npm's own view of them). */
function productionModules(root: string): string[] {
  try {
    const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out
      .split('\n')
      .filter((line) => line.startsWith(join(root, 'node_modules')))
      .map((line) => relative(root, line));
  } catch {
    // npm ls exits non-zero on an extraneous package: then all of node_modules.
    return ['node_modules'];
  }
}

/** Why the pool could not run `root` as it is (see the file's comment), or undefined. */
function whyStage(root: string, isRoot: boolean): string | undefined {
  const reader = isRoot ? fallbackReader() : undefined;
  const entry = join(root, 'dist/workerpool/child/main.js');
  const unreadable = reader && unreadableReason(entry, 'file', reader);
  if (unreadable) return `the children's user cannot read it: ${reader!.user}: ${unreadable}`;
  const untrusted = untrustedReason(root, trustPolicyFor());
  return untrusted && `the pool would refuse its plugins: ${untrusted}`;
}

/** Stages `root` when the pool could not run it as it is; see the file's comment. */
export function stageIfUnreadable(root: string, extra: string[] = []): Stage {
  const none: Stage = { root, reason: undefined, remove: () => {} };
  const isRoot = process.geteuid?.() === 0;
  const reason = whyStage(root, isRoot);
  if (!reason) return none;
  const parent = stageParent(isRoot);
  if (!parent) return none; // the pool's own error line says what it refuses
  removeStale(parent);
  const stage = mkdtempSync(join(parent, `stage-${process.pid}-`));
  const remove = () => rmSync(stage, { recursive: true, force: true });
  try {
    const paths = [
      'package.json',
      'dist',
      'plugins',
      'src/plugin-api',
      ...productionModules(root),
      ...extra,
    ];
    for (const path of paths) {
      if (!existsSync(join(root, path))) continue;
      cpSync(join(root, path), join(stage, path), {
        recursive: true,
        verbatimSymlinks: true,
        force: true,
      });
    }
    // Readable and enterable by all, writable by its owner alone (the pool's trust rule).
    execFileSync('chmod', ['-R', 'u+rwX,go+rX,go-w', stage]);
  } catch (err) {
    remove();
    throw err;
  }
  return { root: stage, reason, remove };
}
