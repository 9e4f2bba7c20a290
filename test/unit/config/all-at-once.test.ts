import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/common/config/load.js';
import type { ConfigProblem } from '../../../src/common/config/problems.js';
import { ini, thrownBy } from './helpers.js';

/** Line numbers of every line of a multi-line config error message. */
const linesOf = (message: string) =>
  message.split('\n').map((line) => Number(/^f\.ini:(\d+):/.exec(line)?.[1] ?? -1));

describe('every problem of a file at once', () => {
  const text = ini(
    '[amqp]', // 1
    'port = 0', // 2
    '', // 3
    '[worker1]', // 4
    'workers = 2', // 5
    'not a key value line', // 6
    'timeout = soon', // 7
    '', // 8
    '[worker1]', // 9
    'workers = 3', // 10
    '', // 11
    '[worker2]', // 12
    'retry_delay = 1', // 13
    'retry_delay = 2', // 14
    'path = %(nokey)s', // 15
    'max_crashes = 0', // 16
  );

  it('reports syntax errors, % errors and value problems of the rest together, in file order', () => {
    const err = thrownBy(() => parseConfigText(text, 'f.ini', {}));
    expect(err.code).toBe('TQ_ERR_CONFIG_SYNTAX');
    expect(linesOf(err.message)).toEqual([2, 6, 7, 9, 14, 15, 16]);
    // The first syntax error stays the error's own place, as when it was the only one.
    expect(err.details).toMatchObject({ file: 'f.ini', line: 6, section: 'worker1' });
    const problems = err.details.problems as ConfigProblem[];
    expect(problems.map((p) => [p.line, p.section, p.key])).toEqual([
      [2, 'amqp', 'port'],
      [7, 'worker1', 'timeout'],
      [16, 'worker2', 'max_crashes'],
    ]);
    const syntax = err.details.syntaxErrors as Array<Record<string, unknown>>;
    expect(syntax.map((s) => [s.line, s.section, s.key])).toEqual([
      [6, 'worker1', undefined],
      [9, 'worker1', undefined],
      [14, 'worker2', 'retry_delay'],
      [15, 'worker2', 'path'],
    ]);
  });

  it('keeps a lone syntax error as it was: the same code, message and details', () => {
    const err = thrownBy(() => parseConfigText(ini('[a]', 'x = 1', '[a]', 'y = 2'), 'f.ini', {}));
    expect(err.code).toBe('TQ_ERR_CONFIG_SYNTAX');
    expect(err.message).toBe(
      'f.ini:3: [a]: expected each section once (already started at line 1)',
    );
    expect(err.details).toEqual({
      file: 'f.ini',
      line: 3,
      section: 'a',
      key: undefined,
      expected: 'each section once (already started at line 1)',
    });
  });

  it('reports keys before the first section once, and checks the sections after them', () => {
    const err = thrownBy(() =>
      parseConfigText(ini('a = 1', 'b = 2', '[amqp]', 'port = 0'), 'f.ini', {}),
    );
    expect(err.code).toBe('TQ_ERR_CONFIG_SYNTAX');
    expect(linesOf(err.message)).toEqual([1, 4]);
  });

  it('does not show a password written after a duplicate key', () => {
    const err = thrownBy(() =>
      parseConfigText(ini('[amqp]', 'passwd = a', 'passwd = s3cret', 'port = 0'), 'f.ini', {}),
    );
    expect(linesOf(err.message)).toEqual([3, 4]);
    expect(err.message).not.toContain('s3cret');
    expect(JSON.stringify(err.details)).not.toContain('s3cret');
  });
});

describe('users and groups of this host (check-config)', () => {
  const text = ini(
    '[DEFAULT]', // 1
    'user = tq-no-such-user-x', // 2
    '', // 3
    '[worker1]', // 4
    'user = root', // 5
    'group = tq-no-such-group-x', // 6
    '', // 7
    '[worker2]', // 8
    'workers = 2', // 9
    '', // 10
    '[amqp]', // 11
    'user = guest', // 12
  );

  it('are errors: every unknown user and group, each once where it is written', () => {
    const err = thrownBy(() => parseConfigText(text, 'f.ini', {}, { accounts: 'error' }));
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    const problems = err.details.problems as ConfigProblem[];
    expect(problems.map((p) => [p.line, p.section, p.key, p.value])).toEqual([
      [2, 'DEFAULT', 'user', 'tq-no-such-user-x'],
      [6, 'worker1', 'group', 'tq-no-such-group-x'],
    ]);
    expect(problems[0]!.expected).toContain('a user that exists on this host');
  });

  it('are warnings for a file meant for another host', () => {
    const config = parseConfigText(text, 'f.ini', {}, { accounts: 'warning' });
    expect(config.warnings).toHaveLength(2);
    expect(config.warnings[0]).toMatch(/^f\.ini:2: \[DEFAULT\] user = tq-no-such-user-x: /);
    expect(config.warnings[1]).toMatch(/^f\.ini:6: \[worker1\] group = tq-no-such-group-x: /);
  });

  it('are not looked up when loading for the daemons (the pool refuses such a group itself)', () => {
    expect(parseConfigText(text, 'f.ini', {}).warnings).toEqual([]);
  });

  it('are reported with the other problems of the file', () => {
    const err = thrownBy(() =>
      parseConfigText(`${text}port = 0\n`, 'f.ini', {}, { accounts: 'error' }),
    );
    expect((err.details.problems as ConfigProblem[]).map((p) => p.line)).toEqual([2, 6, 13]);
  });
});
