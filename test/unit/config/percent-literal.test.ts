import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/common/config/load.js';
import { parseIni } from '../../../src/common/config/parse.js';
import { SectionView } from '../../../src/common/config/view.js';
import { ini, thrownBy } from './helpers.js';

/** The interpolated value of `key` in `section`, as the daemons read it. */
function get(text: string, section: string, key: string): string | undefined {
  const doc = parseIni(text, 'f.ini');
  return new SectionView(doc, [doc.sections.get(section)]).get(key)?.value;
}

const urlsOf = (text: string) => parseConfigText(text, 'f.ini', {}).amqp.urls;

describe('a % that starts neither %(name)s nor %%', () => {
  it('stays literal in a URL pasted as TASKQUEUE_AMQP_URL takes it', () => {
    const text = ini('[amqp]', 'url = amqp://u:p@rabbit.example.org/%2Fvhost');
    expect(urlsOf(text)).toEqual(['amqp://u:p@rabbit.example.org/%2Fvhost']);
  });

  it('stays literal in every URL of a list, and in a password with an escape', () => {
    const text = ini('[amqp]', 'urls = amqp://u:p%40ss@r1/%2F, amqp://u:p%40ss@r2/%2F');
    expect(urlsOf(text)).toEqual(['amqp://u:p%40ss@r1/%2F', 'amqp://u:p%40ss@r2/%2F']);
  });

  it('stays literal in any value, also at its end and next to a reference', () => {
    const text = ini('[s]', 'n = 90', 'a = 50% off', 'b = 100%', 'c = %(n)s%', 'd = %x%(n)s%%');
    expect(get(text, 's', 'a')).toBe('50% off');
    expect(get(text, 's', 'b')).toBe('100%');
    expect(get(text, 's', 'c')).toBe('90%');
    expect(get(text, 's', 'd')).toBe('%x90%');
  });

  it('stays literal inside a referenced value', () => {
    const text = ini(
      '[DEFAULT]',
      'vhost_path = %2Fprod',
      '[amqp]',
      'url = amqp://h/%(vhost_path)s',
    );
    expect(urlsOf(text)).toEqual(['amqp://h/%2Fprod']);
  });

  it('leaves %% meaning one %, as the files written for ConfigParser expect', () => {
    const text = ini('[amqp]', 'url = amqp://u:p@rabbit.example.org/%%2Fvhost');
    expect(urlsOf(text)).toEqual(['amqp://u:p@rabbit.example.org/%2Fvhost']);
  });

  it('still refuses a reference that is not closed', () => {
    const err = thrownBy(() => get(ini('[s]', 'v = 50%(off'), 's', 'v'));
    expect(err.code).toBe('TQ_ERR_CONFIG_SYNTAX');
  });
});
