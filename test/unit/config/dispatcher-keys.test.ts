import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/common/config/load.js';
import type { ConfigProblem } from '../../../src/common/config/problems.js';
import { thrownBy } from './helpers.js';

const load = (text: string) => parseConfigText(text, 'test.ini', {});

describe('[dispatcher] limits', () => {
  it('defaults: max_body_size 16 MiB, max_bytes_in_flight 64 MiB, any type, direct path on', () => {
    expect(load('').dispatcher).toMatchObject({
      maxBodySize: 16 * 1024 * 1024,
      maxBytesInFlight: 64 * 1024 * 1024,
      types: '*',
      directPath: true,
    });
  });

  it('reads direct_path as yes or no', () => {
    expect(load('[dispatcher]\ndirect_path = no\n').dispatcher.directPath).toBe(false);
    expect(load('[dispatcher]\ndirect_path = yes\n').dispatcher.directPath).toBe(true);
  });

  it('reads sizes in bytes or with a binary unit, and types as a list', () => {
    const config = load(
      '[dispatcher]\nmax_body_size = 64K\nmax_bytes_in_flight = 1 GiB\ntypes = echo, build.v2\n',
    );
    expect(config.dispatcher).toMatchObject({
      maxBodySize: 64 * 1024,
      maxBytesInFlight: 1024 ** 3,
      types: ['echo', 'build.v2'],
    });
    expect(load('[dispatcher]\nmax_body_size = 4096\n').dispatcher.maxBodySize).toBe(4096);
  });

  it.each([
    ['max_body_size', '0'],
    ['max_body_size', '1T'],
    ['max_body_size', '513M'],
    ['max_body_size', '-1'],
    ['max_bytes_in_flight', 'lots'],
    ['types', 'echo, flaky.dead'],
    ['types', 'echo,,x'],
    ['direct_path', 'maybe'],
  ])('refuses %s = %s', (key, value) => {
    const err = thrownBy(() => load(`[dispatcher]\n${key} = ${value}\n`));
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expect((err.details.problems as ConfigProblem[])[0]).toMatchObject({
      section: 'dispatcher',
      key,
    });
  });
});

describe('status_socket of [dispatcher] and [workerpool]', () => {
  it("defaults to a socket in each unit's runtime directory; empty or none turns it off", () => {
    const config = load('');
    expect(config.dispatcher.statusSocket).toBe('/run/taskqueue/dispatcher/status.sock');
    expect(config.workerpool.statusSocket).toBe('/run/taskqueue/workerpool/status.sock');
    const off = load('[dispatcher]\nstatus_socket =\n[workerpool]\nstatus_socket = none\n');
    expect(off.dispatcher.statusSocket).toBeUndefined();
    expect(off.workerpool.statusSocket).toBeUndefined();
    expect(load('[workerpool]\nstatus_socket = /tmp/pool.sock\n').workerpool.statusSocket).toBe(
      '/tmp/pool.sock',
    );
  });

  it.each([
    ['dispatcher', 'run/x.sock'],
    ['workerpool', `/${'x'.repeat(107)}`],
  ])('refuses [%s] status_socket = %s (relative, or past sun_path)', (section, value) => {
    const err = thrownBy(() => load(`[${section}]\nstatus_socket = ${value}\n`));
    expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    expect((err.details.problems as ConfigProblem[])[0]).toMatchObject({
      section,
      key: 'status_socket',
    });
  });
});
