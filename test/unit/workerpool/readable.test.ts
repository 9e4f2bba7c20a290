import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Reader, unreadableReason } from '../../../src/workerpool/readable.js';

// Ids no file here belongs to: the "other" bits apply to this reader, whoever runs the tests.
const stranger: Reader = { user: 'stranger', uid: 4_000_001, gids: [4_000_001] };

describe('unreadableReason (a group user’s access to the code, from mode bits)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) {
      chmodSync(dir, 0o700);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  function tree(): { top: string; pkg: string; file: string } {
    const top = mkdtempSync(join(tmpdir(), 'tq-readable-'));
    dirs.push(top);
    chmodSync(top, 0o755);
    const pkg = join(top, 'pkg');
    mkdirSync(pkg, { mode: 0o755 });
    chmodSync(pkg, 0o755);
    const file = join(pkg, 'main.js');
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    return { top, pkg, file };
  }

  it('lets through a world-readable file and directory', () => {
    const { pkg, file } = tree();
    expect(unreadableReason(file, 'file', stranger)).toBeUndefined();
    expect(unreadableReason(pkg, 'dir', stranger)).toBeUndefined();
  });

  it('names the 0700 directory above the code (a clone in a private temp dir)', () => {
    const { top, file } = tree();
    chmodSync(top, 0o700);
    const reason = unreadableReason(file, 'file', stranger);
    expect(reason).toMatch(new RegExp(`^${top} \\(mode 0700, `));
    expect(reason).toContain('does not let stranger enter it');
  });

  it('refuses a file without r and a directory without r for the reader', () => {
    const { pkg, file } = tree();
    chmodSync(file, 0o640);
    expect(unreadableReason(file, 'file', stranger)).toContain('does not let stranger read it');
    chmodSync(pkg, 0o711);
    expect(unreadableReason(pkg, 'dir', stranger)).toContain('does not let stranger list it');
  });

  it('uses the owner’s, then the group’s bits when they apply', () => {
    const { top, file } = tree();
    chmodSync(top, 0o750);
    const owner = process.geteuid!();
    const group = process.getegid!();
    expect(unreadableReason(file, 'file', { user: 'owner', uid: owner, gids: [] })).toBeUndefined();
    expect(
      unreadableReason(file, 'file', { user: 'member', uid: 4_000_002, gids: [group] }),
    ).toBeUndefined();
    expect(unreadableReason(file, 'file', stranger)).toContain(top);
  });

  it('lets root read everything, and names a path that does not exist', () => {
    const { top, file } = tree();
    chmodSync(top, 0o700);
    expect(unreadableReason(file, 'file', { user: 'root', uid: 0, gids: [0] })).toBeUndefined();
    expect(unreadableReason(join(top, 'missing.js'), 'file', { ...stranger, uid: 0 })).toBe(
      undefined,
    );
    chmodSync(top, 0o755);
    expect(unreadableReason(join(top, 'missing.js'), 'file', stranger)).toMatch(/ENOENT/);
  });
});
