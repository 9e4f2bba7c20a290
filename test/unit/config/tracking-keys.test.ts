import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/common/config/load.js';
import { thrownBy } from './helpers.js';

const load = (text: string) => parseConfigText(text, 'test.ini', {});

describe('[tracking]', () => {
  it('is off unless enabled', () => {
    expect(load('').tracking).toEqual({ enabled: false, heartbeatInterval: 10 });
  });

  it.each([
    ['yes', true],
    ['on', true],
    ['True', true],
    ['1', true],
    ['no', false],
    ['off', false],
    ['0', false],
  ])('reads enabled = %s', (value, enabled) => {
    expect(load(`[tracking]\nenabled = ${value}\n`).tracking.enabled).toBe(enabled);
  });

  it('refuses another value and an unknown key, with the expected form', () => {
    const err = thrownBy(() => load('[tracking]\nenabled = maybe\nstore = x\n'));
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expect(err.message).toMatch(/enabled.*yes or no/s);
    expect(err.message).toMatch(/store/);
  });

  it('is not a worker type section', () => {
    expect(load('[tracking]\nenabled = yes\n').configuredTypes).toEqual([]);
  });
});
