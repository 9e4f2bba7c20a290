import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/common/config/load.js';
import { maskUrlPasswords } from '../../../src/common/config/secrets.js';
import type { TqError } from '../../../src/common/errors.js';
import { ini, thrownBy } from './helpers.js';

const SECRET = 's3cr3t';

/** Neither the message nor the details (which a log may print) carry the secret. */
function expectNoSecret(err: TqError, secret = SECRET): void {
  expect(err.message).not.toContain(secret);
  expect(JSON.stringify(err.details)).not.toContain(secret);
}

describe('config errors never show a password', () => {
  it('masks a duplicate passwd key', () => {
    const err = thrownBy(() =>
      parseConfigText(ini('[amqp]', 'passwd = x', `passwd = ${SECRET}`), 'f.ini', {}),
    );
    expect(err.code).toBe('TQ_ERR_CONFIG_SYNTAX');
    expect(err.message).toContain('passwd = ***');
    expectNoSecret(err);
  });

  it('does not show an unindented line after passwd (the rest of the password)', () => {
    const err = thrownBy(() => parseConfigText(ini('[amqp]', 'passwd = abc', SECRET), 'f.ini', {}));
    expect(err.code).toBe('TQ_ERR_CONFIG_SYNTAX');
    expect(err.details).toMatchObject({ line: 3, found: '***' });
    expectNoSecret(err);
  });

  it('does not show an unindented line after url', () => {
    const err = thrownBy(() =>
      parseConfigText(ini('[amqp]', 'url = amqp://u:abc', `${SECRET}@host/v`), 'f.ini', {}),
    );
    expect(err.code).toBe('TQ_ERR_CONFIG_SYNTAX');
    expectNoSecret(err);
  });

  it('masks a URL with a raw "/" in its password, which does not parse', () => {
    const err = thrownBy(() =>
      parseConfigText(ini('[amqp]', `url = amqp://u:ab/${SECRET}@host/v`), 'f.ini', {}),
    );
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expect(err.message).toContain('url = amqp://u:***@host/v');
    expectNoSecret(err);
  });

  it('masks every URL of a urls list, a raw "," or "@" in a password included', () => {
    const err = thrownBy(() =>
      parseConfigText(
        ini('[amqp]', `urls = amqp://u:a,${SECRET}@h1/v, amqp://u:x@${SECRET}@h2/v, bad`),
        'f.ini',
        {},
      ),
    );
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expectNoSecret(err);
  });

  it('masks TASKQUEUE_AMQP_URL with a raw "/" in the password', () => {
    const err = thrownBy(() =>
      parseConfigText('', 'f.ini', { TASKQUEUE_AMQP_URL: `amqp://u:a/${SECRET}@h/v` }),
    );
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expectNoSecret(err);
  });

  it('masks a passwd whose interpolation is wrong', () => {
    const err = thrownBy(() =>
      parseConfigText(ini('[amqp]', `passwd = ${SECRET}%(unclosed`), 'f.ini', {}),
    );
    expect(err.code).toBe('TQ_ERR_CONFIG_SYNTAX');
    expectNoSecret(err);
  });

  it('masks a URL whose interpolation is wrong', () => {
    const err = thrownBy(() =>
      parseConfigText(ini('[amqp]', `url = amqp://u:${SECRET}@h/%(nokey)s`), 'f.ini', {}),
    );
    expect(err.code).toBe('TQ_ERR_CONFIG_SYNTAX');
    expectNoSecret(err);
  });

  it('masks an unknown [amqp] key named like a password (a misspelt passwd)', () => {
    const err = thrownBy(() => parseConfigText(ini('[amqp]', `password = ${SECRET}`), 'f.ini', {}));
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expect(err.message).toContain('password = ***');
    expectNoSecret(err);
  });

  it('masks a passwd written before any section', () => {
    const err = thrownBy(() => parseConfigText(ini(`passwd = ${SECRET}`), 'f.ini', {}));
    expect(err.code).toBe('TQ_ERR_CONFIG_SYNTAX');
    expectNoSecret(err);
  });

  it('masks a URL with credentials in any other value that is reported', () => {
    const err = thrownBy(() =>
      parseConfigText(ini('[amqp]', `hostname = amqp://u:${SECRET}@h/v`), 'f.ini', {}),
    );
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expectNoSecret(err);
  });
});

describe('maskUrlPasswords', () => {
  it.each([
    ['amqp://u:p@h:5672/v', 'amqp://u:***@h:5672/v'],
    ['amqp://h/v', 'amqp://h/v'],
    ['amqp://u@h/v', 'amqp://u@h/v'],
    ['amqp://h:5672/v', 'amqp://h:5672/v'],
    ['amqp://u:a/b@h/v', 'amqp://u:***@h/v'],
    ['amqp://u:a@b@h/v', 'amqp://u:***@h/v'],
    ['amqp://u:a@h1, amqps://v:b@h2', 'amqp://u:***@h1, amqps://v:***@h2'],
    ['see amqp://u:p@h', 'see amqp://u:***@h'],
  ])('%s → %s', (text, masked) => {
    expect(maskUrlPasswords(text)).toBe(masked);
  });
});
