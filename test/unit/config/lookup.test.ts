import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/common/config/load.js';
import { ini, thrownBy } from './helpers.js';

const layered = ini(
  '[DEFAULT]',
  'timeout = 1',
  'color = default',
  'shape = default',
  'size = default',
  '',
  '[shapes]',
  'workers = round, square',
  'timeout = 2',
  'color = type',
  'shape = type',
  '',
  '[shapes_round]',
  'timeout = 3',
  'color = instance',
  '',
  '[shapes_square]',
  'workers = 4',
);

describe('lookup order: instance section, type section, [DEFAULT]', () => {
  const config = parseConfigText(layered, 'layered.ini', {});
  const [round, square] = config.groupsFor('shapes');

  it('takes a key from the instance section first', () => {
    expect(round!.timeout).toBe(3);
    expect(round!.settings.color).toBe('instance');
  });

  it('falls back to the type section, then to [DEFAULT]', () => {
    expect(square!.timeout).toBe(2);
    expect(round!.settings.shape).toBe('type');
    expect(round!.settings.size).toBe('default');
  });

  it("counts an instance's children from its own section, else [DEFAULT], never the type's list", () => {
    expect(round!.workers).toBe(1);
    expect(square!.workers).toBe(4);
  });

  it('gives a type section without instances [DEFAULT] as its fallback', () => {
    const config = parseConfigText(
      ini('[DEFAULT]', 'workers = 2', 'max_attempts = 4', '[t]', 'max_attempts = 5'),
      'f.ini',
      {},
    );
    expect(config.groupsFor('t')[0]).toMatchObject({ workers: 2, maxAttempts: 5 });
  });

  it('reports an unknown key only where it is written, not in the fixed sections that inherit it', () => {
    const config = parseConfigText(ini('[DEFAULT]', 'colour = red', '[amqp]', '[t]'), 'f.ini', {});
    expect(config.groupsFor('t')[0]!.settings).toEqual({ colour: 'red' });
  });

  it('treats <type>_<name> as a type of its own when <type> does not list <name>', () => {
    const config = parseConfigText(
      ini('[a]', 'workers = x', '[a_x]', '[a_y]', 'workers = 2'),
      'f.ini',
      {},
    );
    expect(config.configuredTypes).toEqual(['a', 'a_y']);
    expect(config.groupsFor('a_y')[0]).toMatchObject({ name: 'a_y', type: 'a_y', workers: 2 });
  });

  it('finds instance sections whatever their place in the file', () => {
    const config = parseConfigText(ini('[w_i1]', 'user = u1', '[w]', 'workers = i1'), 'f.ini', {});
    expect(config.configuredTypes).toEqual(['w']);
    expect(config.groupsFor('w')[0]).toMatchObject({ name: 'w_i1', instance: 'i1', user: 'u1' });
  });

  it('allows a type with no children', () => {
    expect(parseConfigText(ini('[t]', 'workers = 0'), 'f.ini', {}).groupsFor('t')[0]!.workers).toBe(
      0,
    );
  });

  it('reports a [DEFAULT] mistake once, where it is written, however many sections see it', () => {
    const err = thrownBy(() =>
      parseConfigText(ini('[DEFAULT]', 'timeout = never', '[a]', '[b]', '[c]'), 'f.ini', {}),
    );
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expect(err.details.problems).toEqual([
      expect.objectContaining({ line: 2, section: 'DEFAULT', key: 'timeout', value: 'never' }),
    ]);
  });
});

describe('workers', () => {
  it('reports a bad [DEFAULT] count once, though types and [DEFAULT] itself read it', () => {
    const err = thrownBy(() =>
      parseConfigText(ini('[DEFAULT]', 'workers = -1', '[t]', '[u]'), 'f.ini', {}),
    );
    expect(err.details.problems).toEqual([
      expect.objectContaining({ line: 2, section: 'DEFAULT', key: 'workers', value: '-1' }),
    ]);
  });

  it('names every missing instance section in one problem', () => {
    const err = thrownBy(() =>
      parseConfigText(ini('[t]', 'workers = a, b, c', '[t_b]'), 'f.ini', {}),
    );
    expect(err.message).toBe(
      'f.ini:2: [t] workers = a, b, c: expected sections [t_a], [t_c] for instances a, c',
    );
  });
});

describe('plugin settings', () => {
  it('are every visible key but the reserved ones, interpolated, most specific first', () => {
    const config = parseConfigText(
      ini(
        '[DEFAULT]',
        'workers = 1',
        'home = /srv',
        '',
        '[shell]',
        'workers = fast',
        'Command = %(home)s/run',
        'timeout = 5',
        'user = nobody',
        '',
        '[shell_fast]',
        'nice = 10',
        'max_attempts = 2',
      ),
      'f.ini',
      {},
    );
    const settings = config.groupsFor('shell')[0]!.settings;
    expect(settings).toEqual({ nice: '10', command: '/srv/run', home: '/srv' });
    expect(Object.keys(settings)).toEqual(['nice', 'command', 'home']);
  });

  it('keep a key named __proto__ as a plain setting', () => {
    const config = parseConfigText(ini('[t]', '__proto__ = x'), 'f.ini', {});
    const settings = config.groupsFor('t')[0]!.settings;
    expect(Object.hasOwn(settings, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(settings)).toBe(Object.prototype);
  });
});
