import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/common/config/load.js';
import { ini } from './helpers.js';

/** The user and password of the first broker URL. */
function login(urls: string[]): { user: string; passwd: string } {
  const url = new URL(urls[0]!);
  return { user: decodeURIComponent(url.username), passwd: decodeURIComponent(url.password) };
}

describe('[amqp], [dispatcher] and [workerpool] do not inherit [DEFAULT]', () => {
  it('does not take [DEFAULT] user (a Unix user for the children) as the broker login', () => {
    const config = parseConfigText(
      ini('[DEFAULT]', 'user = builder', 'passwd = leaked', '[amqp]', 'host = broker'),
      'f.ini',
      {},
    );
    expect(login(config.amqp.urls)).toEqual({ user: 'guest', passwd: 'guest' });
    // The groups still get [DEFAULT]'s user.
    expect(config.groupsFor('echo')[0]!.user).toBe('builder');
  });

  it('warns once per [DEFAULT] key that [amqp] would have taken, naming the line', () => {
    const config = parseConfigText(
      ini('[DEFAULT]', 'user = builder', 'workers = 2', '[amqp]', 'host = broker'),
      'f.ini',
      {},
    );
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings[0]).toMatch(/^f\.ini:2: \[DEFAULT\] user is not used by \[amqp\]/);
    expect(config.warnings[0]).toContain('the broker login is "guest"');
  });

  it('does not warn when [amqp] sets the key itself', () => {
    const config = parseConfigText(
      ini('[DEFAULT]', 'user = builder', '[amqp]', 'user = broker'),
      'f.ini',
      {},
    );
    expect(login(config.amqp.urls).user).toBe('broker');
    expect(config.warnings).toEqual([]);
  });

  it('keeps other [DEFAULT] keys out of [amqp], [dispatcher] and [workerpool]', () => {
    const config = parseConfigText(
      ini('[DEFAULT]', 'heartbeat = 5', 'prefetch = 7', 'log_level = warn', '[amqp]'),
      'f.ini',
      {},
    );
    expect(config.amqp.heartbeat).toBe(30);
    expect(config.dispatcher.prefetch).toBe(100);
    expect(config.workerpool.logLevel).toBe('info');
    // prefetch is the groups' key too: meant for them, so no warning for it.
    expect(config.groupsFor('t')[0]!.prefetch).toBe(7);
    expect(config.warnings.map((w) => /\[DEFAULT\] (\S+)/.exec(w)![1])).toEqual([
      'heartbeat',
      'log_level',
    ]);
  });

  it('does not check a [DEFAULT] key against the [amqp] rules any more', () => {
    // Before, `port: amqp` in [DEFAULT] was an [amqp] port error; now it is a plugin setting.
    const config = parseConfigText(ini('[DEFAULT]', 'port = amqp', '[amqp]'), 'f.ini', {});
    expect(config.groupsFor('t')[0]!.settings).toEqual({ port: 'amqp' });
  });

  it('still lets %(name)s in [amqp] refer to a [DEFAULT] key, as ConfigParser does', () => {
    const config = parseConfigText(
      ini('[DEFAULT]', 'site = broker.example', '[amqp]', 'host = %(site)s'),
      'f.ini',
      {},
    );
    expect(new URL(config.amqp.urls[0]!).hostname).toBe('broker.example');
  });
});
