import { describe, expect, it } from 'vitest';
import { parseIni } from '../../../src/common/config/parse.js';
import { SectionView } from '../../../src/common/config/view.js';
import { ini, thrownBy } from './helpers.js';

/** The interpolated value of `key` in `section`, as ConfigParser's get() would return it. */
function get(text: string, section: string, key: string): string | undefined {
  const doc = parseIni(text, 'f.ini');
  return new SectionView(doc, [doc.sections.get(section)]).get(key)?.value;
}

describe('ConfigParser rules', () => {
  it('accepts "key: value" and "key = value", the first delimiter ending the key', () => {
    const text = ini('[s]', 'a: 1', 'b = 2', 'c=3', 'd:4', 'url: amqp://h:5672/x', 'e = f: g = h');
    expect(get(text, 's', 'a')).toBe('1');
    expect(get(text, 's', 'b')).toBe('2');
    expect(get(text, 's', 'c')).toBe('3');
    expect(get(text, 's', 'd')).toBe('4');
    expect(get(text, 's', 'url')).toBe('amqp://h:5672/x');
    expect(get(text, 's', 'e')).toBe('f: g = h');
  });

  it('strips whitespace around keys and values, and keeps spaces inside keys', () => {
    const text = ini('[s]', '  spaced key   =   a value  ', 'empty =', 'tab\t:\tx');
    expect(get(text, 's', 'spaced key')).toBe('a value');
    expect(get(text, 's', 'empty')).toBe('');
    expect(get(text, 's', 'tab')).toBe('x');
  });

  it('lowercases keys, also in %(references)s, and keeps section names as written', () => {
    const doc = parseIni(ini('[Worker1]', 'HOST = a', '[worker1]', 'Host = b'), 'f.ini');
    expect([...doc.sections.keys()]).toEqual(['Worker1', 'worker1']);
    expect(doc.sections.get('Worker1')!.entries.get('host')!.raw).toBe('a');
    expect(get(ini('[s]', 'Name = x', 'ref = %(NAME)s'), 's', 'ref')).toBe('x');
  });

  it('skips full-line # and ; comments, also indented ones, and has no inline comments', () => {
    const text = ini('# top', '[s]', '; one', '  # indented', 'a = 1 ; not a comment', 'b = x # y');
    expect(get(text, 's', 'a')).toBe('1 ; not a comment');
    expect(get(text, 's', 'b')).toBe('x # y');
  });

  it('continues a value on deeper-indented lines, keeping inner blank lines only', () => {
    const text = ini(
      '[s]',
      'a = one',
      '  two',
      '',
      '      three',
      '  # a comment does not end the value nor add a line',
      '  four',
      '',
      '',
      'b = next',
    );
    expect(get(text, 's', 'a')).toBe('one\ntwo\n\nthree\nfour');
    expect(get(text, 's', 'b')).toBe('next');
  });

  it('measures continuation against the indentation of the key line', () => {
    const text = ini('[s]', '  a = 1', '  b = 2', '   more', 'c = 3');
    expect(get(text, 's', 'a')).toBe('1');
    expect(get(text, 's', 'b')).toBe('2\nmore');
    expect(get(text, 's', 'c')).toBe('3');
  });

  it('starts a value on the line after "key =" when the value is empty', () => {
    expect(get(ini('[s]', 'a =', '  x', '  y'), 's', 'a')).toBe('\nx\ny');
  });

  it('does not continue a section header', () => {
    const doc = parseIni(ini('[s]', '  a = 1'), 'f.ini');
    expect(doc.sections.get('s')!.entries.get('a')!.raw).toBe('1');
  });

  it('reads the header greedily, as ConfigParser does', () => {
    const doc = parseIni(ini('[a]b] trailing', 'k = v'), 'f.ini');
    expect([...doc.sections.keys()]).toEqual(['a]b']);
  });

  it('gives [DEFAULT] keys to every section, and lets [DEFAULT] reappear', () => {
    const text = ini('[DEFAULT]', 'a = 1', '[s]', 'b = 2', '[DEFAULT]', 'c = 3');
    expect(get(text, 's', 'a')).toBe('1');
    expect(get(text, 's', 'c')).toBe('3');
    const doc = parseIni(text, 'f.ini');
    expect([...doc.sections.keys()]).toEqual(['s']);
    expect(doc.defaults.line).toBe(1);
  });

  it('records the line of every section and key', () => {
    const doc = parseIni(ini('; c', '', '[a]', 'x = 1', '  more', 'y: 2', '[b]', 'z = 3'), 'f.ini');
    const a = doc.sections.get('a')!;
    expect(a.line).toBe(3);
    expect(a.entries.get('x')!.line).toBe(4);
    expect(a.entries.get('y')!.line).toBe(6);
    expect(doc.sections.get('b')!.line).toBe(7);
    expect(doc.sections.get('b')!.entries.get('z')!.line).toBe(8);
    expect(doc.defaults.line).toBe(0);
  });

  it('reads CRLF files and a UTF-8 byte order mark', () => {
    const doc = parseIni('\uFEFF[s]\r\na = 1\r\n  b\r\n', 'f.ini');
    expect(doc.sections.get('s')!.entries.get('a')).toEqual({ key: 'a', raw: '1\nb', line: 2 });
  });

  it('accepts an empty file', () => {
    const doc = parseIni('', 'f.ini');
    expect(doc.sections.size).toBe(0);
  });
});

describe('ConfigParser syntax errors', () => {
  const cases: [string, string, number, Record<string, unknown>][] = [
    ['key before section', ini('', 'a = 1'), 2, { key: 'a', section: undefined }],
    ['line that is neither', ini('[s]', 'just words'), 2, { section: 's', key: undefined }],
    ['empty key', ini('[s]', ': v'), 2, { section: 's' }],
    ['duplicate section', ini('[s]', '[t]', '[s]'), 3, { section: 's' }],
    ['duplicate key', ini('[s]', 'a = 1', 'A = 2'), 3, { section: 's', key: 'a' }],
    ['duplicate [DEFAULT] key', ini('[DEFAULT]', 'a = 1', '[DEFAULT]', 'a = 2'), 4, { key: 'a' }],
  ];

  it.each(cases)('rejects a %s', (_name, text, line, where) => {
    const err = thrownBy(() => parseIni(text, 'f.ini'));
    expect(err.code).toBe('TQ_ERR_CONFIG_SYNTAX');
    expect(err.message.startsWith(`f.ini:${line}: `)).toBe(true);
    expect(err.message).toContain('expected ');
    expect(err.details).toMatchObject({ file: 'f.ini', line, ...where });
  });

  it('says what came first for a duplicate', () => {
    const err = thrownBy(() => parseIni(ini('[s]', 'a = 1', 'a = 2'), 'f.ini'));
    expect(err.message).toBe(
      'f.ini:3: [s] a = 2: expected each key once per section (already set at line 2)',
    );
  });

  it('shows the offending line when it is not a key', () => {
    const err = thrownBy(() => parseIni(ini('[s]', 'just words'), 'f.ini'));
    expect(err.message).toBe(
      'f.ini:2: [s]: expected "key = value", "key: value", a [section] or a comment; found "just words"',
    );
  });
});

describe('BasicInterpolation', () => {
  it('replaces %(name)s from the same section, then [DEFAULT], recursively', () => {
    const text = ini(
      '[DEFAULT]',
      'root = /srv',
      'data = %(root)s/data',
      '[s]',
      'root = /opt',
      'in = %(data)s/in',
    );
    expect(get(text, 's', 'in')).toBe('/opt/data/in');
    expect(get(text, 's', 'data')).toBe('/opt/data');
  });

  it('turns %% into %', () => {
    expect(get(ini('[s]', 'p = 100%% of %%(x)s'), 's', 'p')).toBe('100% of %(x)s');
  });

  it('interpolates at lookup, so a section nobody reads may hold anything', () => {
    const doc = parseIni(ini('[formatter_x]', 'format = %(asctime)s %'), 'f.ini');
    expect(doc.sections.get('formatter_x')!.entries.get('format')!.raw).toBe('%(asctime)s %');
  });

  const errors: [string, string, string][] = [
    ['an unclosed reference', '%(name', '"%(name)s" to be closed by ")s"'],
    ['an unknown reference', '%(nope)s', '"%(nope)s" to name a key of [s] or [DEFAULT]'],
    ['a reference without s', '%(a)d', '"%(name)s" to be closed by ")s"'],
  ];

  it.each(errors)('rejects %s at lookup', (_name, value, expected) => {
    const text = ini('[s]', 'a = 1', `v = ${value}`);
    const err = thrownBy(() => get(text, 's', 'v'));
    expect(err.code).toBe('TQ_ERR_CONFIG_SYNTAX');
    expect(err.message).toContain(`f.ini:3: [s] v = ${value}: expected ${expected}`);
    expect(err.details).toMatchObject({ file: 'f.ini', line: 3, section: 's', key: 'v' });
  });

  it('rejects a reference loop', () => {
    const err = thrownBy(() => get(ini('[s]', 'a = %(a)s'), 's', 'a'));
    expect(err.code).toBe('TQ_ERR_CONFIG_SYNTAX');
    expect(err.message).toContain('nested at most 10 deep');
  });

  it('allows 10 levels of nesting, as Python', () => {
    const lines = ['[s]', 'k0 = end'];
    for (let i = 1; i <= 11; i++) lines.push(`k${i} = %(k${i - 1})s%%`);
    expect(get(ini(...lines), 's', 'k10')).toBe(`end${'%'.repeat(10)}`);
    expect(() => get(ini(...lines), 's', 'k11')).toThrow(/nested at most 10 deep/);
  });
});
