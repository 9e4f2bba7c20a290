/**
 * Staging for `npm start` and the tests when they run as root from a checkout the children's
 * user cannot read (a clone in `mktemp -d` or under /root, mode 0700): the pool runs children as
 * `taskqueue` or `nobody`, who could not load a line of it. Rather than loosen the operator's
 * directories, the build is copied where such a user can read it and the pool trusts it: a
 * root-owned 0755 directory under /var/lib/taskqueue-dev (not /var/tmp: the pool refuses plugins
 * below a world-writable directory, discovery/trust.ts). Only what runs is copied: dist/, the
 * workspace packages, the production dependencies (`npm ls --omit=dev`), and `extra` paths.
 * Nothing is staged when the children's user can read the checkout, or when not root (the
 * children then run as the caller).
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
import { join, relative } from 'node:path';
import { type Reader, readerFor, unreadableReason } from '../workerpool/readable.js';

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
function removeStale(): void {
  let names: string[] = [];
  try {
    names = readdirSync(STAGE_PARENT);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^stage-(\d+)-/.exec(name)?.[1]);
    if (!pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      rmSync(join(STAGE_PARENT, name), { recursive: true, force: true });
    }
  }
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

/** Stages `root` for children that could not read it; see the file's comment. */
export function stageIfUnreadable(root: string, extra: string[] = []): Stage {
  const none: Stage = { root, reason: undefined, remove: () => {} };
  if (process.geteuid?.() !== 0) return none;
  const reader = fallbackReader();
  if (!reader) return none;
  const reason = unreadableReason(join(root, 'dist/workerpool/child/main.js'), 'file', reader);
  if (!reason) return none;
  removeStale();
  mkdirSync(STAGE_PARENT, { recursive: true, mode: 0o755 });
  chmodSync(STAGE_PARENT, 0o755);
  const stage = mkdtempSync(join(STAGE_PARENT, `stage-${process.pid}-`));
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
    // Readable and enterable by all, writable by root alone (the pool's trust rule).
    execFileSync('chmod', ['-R', 'u+rwX,go+rX,go-w', stage]);
  } catch (err) {
    remove();
    throw err;
  }
  return { root: stage, reason: `${reader.user}: ${reason}`, remove };
}
