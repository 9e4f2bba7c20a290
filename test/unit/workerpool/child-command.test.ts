import { describe, expect, it } from 'vitest';
import { childCommand, childNodeFlags, SETPRIV } from '../../../src/workerpool/child-command.js';

describe('childNodeFlags', () => {
  const defaults = ['--max-semi-space-size=1', '--v8-pool-size=1'];

  it('caps the young generation and V8 background threads by default', () => {
    expect(childNodeFlags('')).toEqual(defaults);
    expect(childNodeFlags('--enable-source-maps')).toEqual(defaults);
  });

  it("leaves out a flag the operator's NODE_OPTIONS sets", () => {
    expect(childNodeFlags('--max-semi-space-size=8')).toEqual(['--v8-pool-size=1']);
    expect(childNodeFlags('--enable-source-maps --max-semi-space-size 4')).toEqual([
      '--v8-pool-size=1',
    ]);
    expect(childNodeFlags('--v8-pool-size=4')).toEqual(['--max-semi-space-size=1']);
    expect(childNodeFlags('--v8-pool-size=2 --max-semi-space-size=2')).toEqual([]);
  });

  it("fixes the young generation at the group's semi_space_size, over NODE_OPTIONS'", () => {
    expect(childNodeFlags('', 8)).toEqual([
      '--max-semi-space-size=8',
      '--min-semi-space-size=8',
      '--v8-pool-size=1',
    ]);
    expect(childNodeFlags('--max-semi-space-size=2', 16)).toEqual([
      '--max-semi-space-size=16',
      '--min-semi-space-size=16',
      '--v8-pool-size=1',
    ]);
  });
});

describe('childCommand', () => {
  const flags = childNodeFlags();

  it('runs Node with the flags, then the entry, when the group has no user', () => {
    const command = childCommand(undefined, '/x/child/main.js');
    expect(command.file).toBe(process.execPath);
    expect(command.args).toEqual([...flags, '/x/child/main.js']);
  });

  it("puts the group's semi_space_size before the entry", () => {
    const command = childCommand(undefined, '/x/child/main.js', 8);
    expect(command.args).toEqual([...childNodeFlags(undefined, 8), '/x/child/main.js']);
    expect(command.args).toContain('--max-semi-space-size=8');
  });

  it('runs Node through setpriv, the flags after the Node binary, for a group user', () => {
    const identity = { user: 'tq', uid: 1001, gid: 1002, home: '/home/tq' };
    const command = childCommand(identity, '/x/child/main.js');
    expect(command.file).toBe(SETPRIV);
    expect(command.args).toEqual([
      '--reuid=1001',
      '--regid=1002',
      '--init-groups',
      '--',
      process.execPath,
      ...flags,
      '/x/child/main.js',
    ]);
    expect(command.env).toEqual({ HOME: '/home/tq', USER: 'tq', LOGNAME: 'tq' });
  });
});
