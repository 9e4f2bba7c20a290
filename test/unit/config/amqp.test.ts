import { describe, expect, it } from 'vitest';
import { buildAmqpUrl, redactUrl } from '../../../src/common/config/amqp-url.js';
import { loadConfig, parseConfigText } from '../../../src/common/config/load.js';
import { fixture, ini, thrownBy } from './helpers.js';

const urlsOf = (text: string, env: NodeJS.ProcessEnv = {}) =>
  parseConfigText(text, 'f.ini', env).amqp.urls;

describe('broker URLs', () => {
  it('default to guest@localhost on vhost /', () => {
    expect(urlsOf('')).toEqual(['amqp://guest:guest@localhost:5672/%2F']);
  });

  it('percent-encode user, password and vhost', () => {
    const text = ini(
      '[amqp]',
      'user = a@b',
      'passwd = p:/@%%x',
      'vhost = my vhost/1',
      'port = 5673',
    );
    expect(urlsOf(text)).toEqual(['amqp://a%40b:p%3A%2F%40%25x@localhost:5673/my%20vhost%2F1']);
  });

  it('bracket an IPv6 host', () => {
    expect(urlsOf(ini('[amqp]', 'host = ::1'))).toEqual(['amqp://guest:guest@[::1]:5672/%2F']);
  });

  it('use amqps and port 5671 when TLS files are given', () => {
    expect(urlsOf(ini('[amqp]', 'tls_ca = /ca.pem'))).toEqual([
      'amqps://guest:guest@localhost:5671/%2F',
    ]);
  });

  it('take url over the parts, and urls over url', () => {
    expect(urlsOf(ini('[amqp]', 'host = ignored', 'url = amqps://h1/v'))).toEqual(['amqps://h1/v']);
    expect(urlsOf(ini('[amqp]', 'url = amqp://h1', 'urls = amqp://h2, amqp://h3'))).toEqual([
      'amqp://h2',
      'amqp://h3',
    ]);
  });

  it('still check the keys a URL shadows', () => {
    const err = thrownBy(() => urlsOf(ini('[amqp]', 'url = amqp://h1', 'port = x')));
    expect(err.details.problems).toEqual([expect.objectContaining({ line: 3, key: 'port' })]);
  });

  it('reject a vhost path that is not percent-encoded', () => {
    const err = thrownBy(() => urlsOf(ini('[amqp]', 'url = amqp://h1/a/b')));
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
  });

  it('mask the password when shown', () => {
    expect(redactUrl('amqps://u:secret@h:5671/v')).toBe('amqps://u:***@h:5671/v');
    expect(redactUrl('amqp://h/v')).toBe('amqp://h/v');
    expect(
      buildAmqpUrl({ tls: false, host: 'h', port: undefined, user: 'u', passwd: '', vhost: '/' }),
    ).toBe('amqp://u:@h:5672/%2F');
  });

  it('do not show a password in an interpolation error', () => {
    const err = thrownBy(() => urlsOf(ini('[amqp]', 'passwd = 100%(secret')));
    expect(err.code).toBe('TQ_ERR_CONFIG_SYNTAX');
    expect(err.message).toContain('[amqp] passwd = ***: expected');
    expect(err.message).not.toContain('secret');
  });
});

describe('TASKQUEUE_AMQP_URL', () => {
  const env = { TASKQUEUE_AMQP_URL: 'amqp://u:p@broker.test:5672/%2F' };

  it('overrides the URLs of the file', () => {
    const config = loadConfig(fixture('spec-example.ini'), env);
    expect(config.amqp.urls).toEqual(['amqp://u:p@broker.test:5672/%2F']);
  });

  it('overrides urls too', () => {
    expect(urlsOf(ini('[amqp]', 'urls = amqp://a, amqp://b'), env)).toEqual([
      'amqp://u:p@broker.test:5672/%2F',
    ]);
  });

  it('is ignored when empty', () => {
    expect(urlsOf('', { TASKQUEUE_AMQP_URL: '' })).toEqual([
      'amqp://guest:guest@localhost:5672/%2F',
    ]);
  });

  it('must be an amqp(s) URL itself, and its password is not shown', () => {
    const err = thrownBy(() => urlsOf('', { TASKQUEUE_AMQP_URL: 'http://u:secret@h/' }));
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expect(err.message).toBe(
      'environment: TASKQUEUE_AMQP_URL = http://u:***@h/: expected an amqp:// or amqps:// URL',
    );
    expect(err.details.problems).toEqual([
      expect.objectContaining({ file: 'environment', line: 0, key: 'TASKQUEUE_AMQP_URL' }),
    ]);
  });

  it('defaults to process.env', () => {
    const saved = process.env.TASKQUEUE_AMQP_URL;
    process.env.TASKQUEUE_AMQP_URL = 'amqp://from-env';
    try {
      expect(parseConfigText('', 'f.ini').amqp.urls).toEqual(['amqp://from-env']);
    } finally {
      if (saved === undefined) delete process.env.TASKQUEUE_AMQP_URL;
      else process.env.TASKQUEUE_AMQP_URL = saved;
    }
  });
});

describe('[amqp] management_url', () => {
  const managementOf = (text: string) => parseConfigText(text, 'f.ini', {}).amqp.managementUrl;

  it('is unset by default, and taken as written', () => {
    expect(managementOf('')).toBeUndefined();
    expect(managementOf(ini('[amqp]', 'management_url = https://m:15671'))).toBe('https://m:15671');
  });

  it('must be an http(s) URL with a host, no query or fragment; its password is not shown', () => {
    for (const value of ['amqp://h', 'h:15672', 'http://', 'http://h/?x=1', 'http://h/#a']) {
      const err = thrownBy(() => managementOf(ini('[amqp]', `management_url = ${value}`)));
      expect(err.code, value).toBe('TQ_ERR_CONFIG_VALUE');
    }
    const err = thrownBy(() => managementOf(ini('[amqp]', 'management_url = ftp://u:secret@h')));
    expect(err.message).not.toContain('secret');
  });
});
