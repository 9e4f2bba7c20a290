import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_API_SPEC,
  parseScaffoldArgs,
  UsageError,
} from '../../../src/create-taskqueue-plugin/args.js';

describe('create-taskqueue-plugin arguments', () => {
  it('writes taskqueue-plugin-<type> in the current directory, against the default API', () => {
    expect(parseScaffoldArgs(['wordcount'], '/home/me')).toEqual({
      type: 'wordcount',
      packageName: 'taskqueue-plugin-wordcount',
      dir: '/home/me/taskqueue-plugin-wordcount',
      apiSpec: DEFAULT_API_SPEC,
      force: false,
    });
    expect(DEFAULT_API_SPEC).toBe('^1.1.0');
  });

  it('takes --dir (relative to the current directory), --api-spec and --force', () => {
    const options = parseScaffoldArgs(
      ['build.arm', '--dir', 'plugins/b', '--api-spec', 'file:../api.tgz', '--force'],
      '/home/me',
    );
    expect(options).toMatchObject({
      type: 'build.arm',
      dir: join('/home/me', 'plugins/b'),
      apiSpec: 'file:../api.tgz',
      force: true,
    });
  });

  it.each([
    [[], /the worker type is missing/],
    [['a', 'b'], /give one worker type/],
    [['--colour', 'a'], /Unknown option '--colour'/],
    [['a', '--dir'], /--dir/],
    [['a', '--api-spec', ''], /--api-spec is empty/],
    [['foo.dead'], /reserved segment "dead"/],
    [['foo.Retry'], /reserved segment "Retry"/],
    [['-x'], /Unknown option/],
    [['with space'], /does not match/],
    [['../evil'], /does not match/],
    [['Foo'], /capitals/],
    [['a'.repeat(200)], /longer than npm's 214 characters/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseScaffoldArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseScaffoldArgs(argv as string[])).toThrow(message);
  });

  it('answers --help', () => {
    expect(parseScaffoldArgs(['--help'])).toBe('help');
  });
});
