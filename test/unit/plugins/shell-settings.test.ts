import { describe, expect, it } from 'vitest';
import { parseSettings, sectionOf } from '../../../plugins/shell/lib/settings.js';
import { splitArgv } from '../../../plugins/shell/lib/split-argv.js';

describe('taskqueue-plugin-shell: splitArgv', () => {
  it.each([
    ['cat', ['cat']],
    ['  /usr/bin/tool   -v\t--x=1  ', ['/usr/bin/tool', '-v', '--x=1']],
    [`tool 'two words' "three words"`, ['tool', 'two words', 'three words']],
    [`tool '' ""`, ['tool', '', '']],
    [`tool a'b'"c"d`, ['tool', 'abcd']],
    [`tool '$HOME "x" \\n'`, ['tool', '$HOME "x" \\n']],
    [`tool "a \\"b\\" \\\\ \\$c \\n"`, ['tool', 'a "b" \\ $c \\n']],
    [`tool two\\ words \\'q \\$x \\|`, ['tool', 'two words', "'q", '$x', '|']],
    ['tool a~b --home=~', ['tool', 'a~b', '--home=~']],
    ['tool \\\n  next', ['tool', 'next']],
    ['', []],
  ])('%j → %j', (line, argv) => {
    expect(splitArgv(line)).toEqual(argv);
  });

  it.each([
    [`tool 'open`, /unterminated ' quote at column 6/],
    [`tool "open`, /unterminated " quote at column 6/],
    ['tool \\', /trailing \\/],
    ['tool | other', /\| at column 6 outside quotes.*shell = yes/],
    ['tool > out', /> at column 6/],
    ['tool; rm x', /; at column 5/],
    ['tool &', /& at column 6/],
    ['tool $HOME', /\$ at column 6/],
    ['tool "$HOME"', /\$ at column 7 inside "/],
    ['tool `id`', /` at column 6/],
    ['tool *.json', /\* at column 6/],
    ['tool ~/x', /~ at column 6/],
  ])('refuses %j', (line, message) => {
    expect(() => splitArgv(line)).toThrow(message);
  });
});

describe('taskqueue-plugin-shell: parseSettings', () => {
  it('splits command into a program and arguments', () => {
    expect(parseSettings({ command: `tool -x 'a b'` }, '[shell]')).toEqual({
      file: 'tool',
      args: ['-x', 'a b'],
      label: 'tool',
      cwd: undefined,
      env: {},
    });
  });

  it.each(['yes', 'Yes', 'true', 'on', '1'])('shell = %s runs the command with /bin/sh -c', (v) => {
    const spec = parseSettings({ command: 'a | b', shell: v }, '[shell]');
    expect(spec.file).toBe('/bin/sh');
    expect(spec.args).toEqual(['-c', 'a | b', 'taskqueue-shell']);
    expect(spec.label).toBe('/bin/sh -c');
  });

  it.each(['no', 'false', 'off', '0', ''])('shell = %j splits the command itself', (v) => {
    expect(parseSettings({ command: 'tool x', shell: v }, '[shell]').file).toBe('tool');
  });

  it('turns env_* keys into upper-case environment variables', () => {
    const spec = parseSettings(
      { command: 'tool', env_path: '/opt/bin', env_LANG: 'C.UTF-8', environment: 'x' },
      '[shell]',
    );
    expect(spec.env).toEqual({ PATH: '/opt/bin', LANG: 'C.UTF-8' });
  });

  it('names the section of an instance', () => {
    expect(sectionOf('conv', undefined)).toBe('[conv]');
    expect(sectionOf('conv', 'a')).toBe('[conv_a] (or [conv])');
    expect(() => parseSettings({}, sectionOf('conv', 'a'))).toThrow(
      'setting "command" in section [conv_a] (or [conv]) is required',
    );
  });
});
