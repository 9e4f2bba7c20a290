import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/common/config/load.js';
import { ini, thrownBy } from './helpers.js';

const load = (text: string) => parseConfigText(text, 'test.ini', {});

describe('max_priority and rate_limit', () => {
  it('are absent unless written', () => {
    const [group] = load(ini('[echo]', 'workers = 1')).groupsFor('echo');
    expect(group).toMatchObject({ maxPriority: undefined, rateLimit: undefined });
  });

  it('are read from the type section and shared by its instances', () => {
    const config = load(
      ini(
        '[build]',
        'workers = fast, slow',
        'max_priority = 5',
        'rate_limit = 2.5',
        '[build_fast]',
        'workers = 2',
        '[build_slow]',
        'workers = 1',
      ),
    );
    const groups = config.groupsFor('build');
    expect(groups.map((g) => [g.name, g.maxPriority, g.rateLimit])).toEqual([
      ['build_fast', 5, 2.5],
      ['build_slow', 5, 2.5],
    ]);
  });

  it.each([
    ['max_priority', '0'],
    ['max_priority', '256'],
    ['max_priority', '2.5'],
    ['rate_limit', '0'],
    ['rate_limit', '-1'],
    ['rate_limit', '100001'],
  ])('refuse %s = %s with the expected form', (key, value) => {
    const err = thrownBy(() => load(ini('[echo]', `${key} = ${value}`)));
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expect(err.message).toContain(`${key} = ${value}`);
  });

  it('take none as no priorities and no cap', () => {
    const [group] = load(ini('[echo]', 'max_priority = none', 'rate_limit = none')).groupsFor(
      'echo',
    )!;
    expect(group).toMatchObject({ maxPriority: undefined, rateLimit: undefined });
  });

  it('are refused in an instance section, naming where to write them', () => {
    const err = thrownBy(() =>
      load(ini('[build]', 'workers = fast', '[build_fast]', 'max_priority = 3', 'rate_limit = 1')),
    );
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expect(err.message).toMatch(
      /test\.ini:4: \[build_fast\] max_priority = 3: .*written in \[build\]/,
    );
    expect(err.message).toMatch(/test\.ini:5: \[build_fast\] rate_limit = 1/);
  });
});
