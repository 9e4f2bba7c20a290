import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { STAGE_PARENT, stageIfUnreadable } from '@taskqueue/dev/stage';
import { afterEach, describe, expect, it } from 'vitest';
import { trustPolicyFor, untrustedReason } from '../../../src/workerpool/discovery/trust.js';
import { unreadableReason } from '../../../src/workerpool/readable.js';

const nobody = { user: 'nobody', uid: 65534, gids: [65534] };

/** A checkout with the files staging copies, in a directory of `mode` under `parent`. */
function checkout(mode: number, parent = tmpdir()): string {
  const top = mkdtempSync(join(parent, 'tq-stage-'));
  chmodSync(top, mode);
  const files = [
    'package.json',
    'dist/workerpool/child/main.js',
    'plugins/echo/package.json',
    'node_modules/dep/index.js',
    'test/fixtures/plugins/taskqueue-plugin-x/package.json',
  ];
  for (const file of files) {
    mkdirSync(dirname(join(top, 'tq', file)), { recursive: true });
    writeFileSync(join(top, 'tq', file), '{}');
  }
  return top;
}

describe.skipIf(process.geteuid?.() !== 0)('stageIfUnreadable (root)', () => {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('copies a private checkout where nobody can read it and the pool trusts it', () => {
    const top = checkout(0o700);
    made.push(top);
    const stage = stageIfUnreadable(join(top, 'tq'), ['test/fixtures']);
    try {
      expect(stage.reason).toContain(`${top} (mode 0700`);
      expect(dirname(stage.root)).toBe(STAGE_PARENT);
      for (const file of ['dist/workerpool/child/main.js', 'node_modules/dep/index.js'])
        expect(unreadableReason(join(stage.root, file), 'file', nobody)).toBeUndefined();
      const fixtures = join(stage.root, 'test/fixtures/plugins');
      expect(unreadableReason(fixtures, 'dir', nobody)).toBeUndefined();
      expect(untrustedReason(join(stage.root, 'plugins/echo'), trustPolicyFor(0))).toBeUndefined();
    } finally {
      stage.remove();
    }
    expect(existsSync(stage.root)).toBe(false);
  });

  it('leaves a checkout the children can read and the pool trusts where it is', () => {
    mkdirSync(STAGE_PARENT, { recursive: true, mode: 0o755 });
    const top = checkout(0o755, STAGE_PARENT);
    made.push(top);
    const stage = stageIfUnreadable(join(top, 'tq'));
    expect(stage).toMatchObject({ root: join(top, 'tq'), reason: undefined });
  });

  it('copies a readable checkout below a world-writable directory (the pool refuses its plugins)', () => {
    const top = checkout(0o755);
    made.push(top);
    const stage = stageIfUnreadable(join(top, 'tq'));
    try {
      expect(stage.reason).toMatch(/pool would refuse its plugins: .* world-writable/);
      expect(untrustedReason(join(stage.root, 'plugins/echo'), trustPolicyFor(0))).toBeUndefined();
    } finally {
      stage.remove();
    }
  });
});
