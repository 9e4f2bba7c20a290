import { describe, expect, it } from 'vitest';
import { isPlainText, plainTextParts } from '../../../src/common/content-type.js';

describe('isPlainText', () => {
  it('takes text/plain whatever its case, spaces and parameters', () => {
    for (const type of ['text/plain', 'Text/Plain', ' text/plain ', 'text/plain; charset=utf-8'])
      expect(isPlainText(type), type).toBe(true);
  });

  it('takes anything else, or no content type, for JSON', () => {
    for (const type of [undefined, '', 'application/json', 'application/json; charset=utf-8'])
      expect(isPlainText(type), String(type)).toBe(false);
    for (const type of ['text/plainer', 'text/html', 'plain', 'text/plain-ish; x=1'])
      expect(isPlainText(type), type).toBe(false);
  });
});

describe('plainTextParts', () => {
  it('splits at the first whitespace after the type, leading whitespace skipped', () => {
    expect(plainTextParts('echo hello  world')).toEqual({ type: 'echo', rest: 'hello  world' });
    expect(plainTextParts('  \techo\nline one\nline two')).toEqual({
      type: 'echo',
      rest: 'line one\nline two',
    });
  });

  it('gives the whole word and no rest when nothing follows it', () => {
    expect(plainTextParts('echo')).toEqual({ type: 'echo', rest: '' });
    expect(plainTextParts('echo ')).toEqual({ type: 'echo', rest: '' });
    expect(plainTextParts('')).toEqual({ type: '', rest: '' });
    expect(plainTextParts('   ')).toEqual({ type: '', rest: '' });
  });
});
