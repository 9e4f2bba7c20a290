import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/common/config/load.js';
import { ini, thrownBy } from './helpers.js';

const load = (text: string) => parseConfigText(text, 'test.ini', {});

describe('semi_space_size', () => {
  it('is absent unless written (the children then start with 1 MiB)', () => {
    const [group] = load(ini('[echo]', 'workers = 1')).groupsFor('echo');
    expect(group?.semiSpaceSize).toBeUndefined();
  });

  it('is read in MiB, per group: an instance may differ from its type', () => {
    const config = load(
      ini(
        '[build]',
        'workers = big, small',
        'semi_space_size = 8M',
        '[build_big]',
        'workers = 1',
        'semi_space_size = 16 MiB',
        '[build_small]',
        'workers = 1',
      ),
    );
    expect(config.groupsFor('build').map((g) => [g.name, g.semiSpaceSize])).toEqual([
      ['build_big', 16],
      ['build_small', 8],
    ]);
  });

  it('is not passed to the plugin as a setting', () => {
    const [group] = load(ini('[echo]', 'semi_space_size = 4M')).groupsFor('echo');
    expect(group?.settings).not.toHaveProperty('semi_space_size');
  });

  it.each(['0', '512K', '1536K', '65M', '8', 'big'])('refuses semi_space_size = %s', (value) => {
    const err = thrownBy(() => load(ini('[echo]', `semi_space_size = ${value}`)));
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expect(err.message).toContain(`semi_space_size = ${value}`);
    expect(err.message).toContain('whole number of MiB from 1M to 64M');
  });
});

describe('concurrency', () => {
  it('is absent unless written: a child runs as many tasks as it holds', () => {
    const [group] = load(ini('[echo]', 'prefetch = 4')).groupsFor('echo');
    expect(group).toMatchObject({ prefetch: 4, concurrency: undefined });
  });

  it('is read per group, up to its prefetch', () => {
    const [group] = load(ini('[build]', 'prefetch = 2', 'concurrency = 1')).groupsFor('build');
    expect(group).toMatchObject({ prefetch: 2, concurrency: 1 });
  });

  it('is refused above the prefetch, naming it', () => {
    const err = thrownBy(() => load(ini('[build]', 'prefetch = 2', 'concurrency = 3')));
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expect(err.message).toMatch(
      /test\.ini:3: \[build\] concurrency = 3: .*at most.*prefetch \(2\)/,
    );
  });

  it.each(['0', '-1', '1.5', 'two'])('refuses concurrency = %s', (value) => {
    const err = thrownBy(() => load(ini('[echo]', `concurrency = ${value}`)));
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
  });
});
