import { describe, expect, it } from 'vitest';
import { GROUP_KEYS, WORKERPOOL_KEYS } from '../../../src/common/config/schema.js';
import {
  amqpUrl,
  hostName,
  INVALID,
  integer,
  list,
  optional,
  seconds,
  typeName,
  unixName,
} from '../../../src/common/config/values.js';

describe('value parsers', () => {
  it('integer takes plain digits within bounds only', () => {
    const port = integer(1, 65535);
    expect(port('5672')).toBe(5672);
    for (const bad of ['0', '65536', '-1', '+1', '1.0', '1e3', '0x10', '1_000', '', ' 1']) {
      expect(port(bad), bad).toBe(INVALID);
    }
    expect(integer(0)('99999999999999999999')).toBe(INVALID);
  });

  it('seconds takes decimals within bounds', () => {
    expect(seconds(0, 10)('0')).toBe(0);
    expect(seconds(0, 10)('.5')).toBe(0.5);
    expect(seconds(0, 10)('2.')).toBe(2);
    expect(seconds(0, 10, true)('0')).toBe(INVALID);
    expect(seconds(0, 10)('11')).toBe(INVALID);
    expect(seconds(0, 10)('1s')).toBe(INVALID);
  });

  it('optional reads none and empty as no limit', () => {
    const limit = optional(integer(1));
    expect(limit('none')).toBeUndefined();
    expect(limit('None')).toBeUndefined();
    expect(limit('')).toBeUndefined();
    expect(limit('3')).toBe(3);
    expect(limit('0')).toBe(INVALID);
  });

  it('list rejects empty items and, when asked, duplicates', () => {
    const names = list(typeName, { allowEmpty: false, unique: true });
    expect(names('a, b,c')).toEqual(['a', 'b', 'c']);
    expect(names('a,\nb')).toEqual(['a', 'b']);
    expect(names('a,,b')).toBe(INVALID);
    expect(names('a,')).toBe(INVALID);
    expect(names('a, a')).toBe(INVALID);
    expect(names('')).toBe(INVALID);
    expect(list(typeName, { allowEmpty: true, unique: false })('')).toEqual([]);
  });

  it('names follow SPEC and useradd', () => {
    expect(typeName('worker.v2_x-1')).toBe('worker.v2_x-1');
    expect(typeName('_x')).toBe(INVALID);
    expect(typeName('a'.repeat(202))).toBe(INVALID);
    expect(unixName('bifh1')).toBe('bifh1');
    expect(unixName('machine$')).toBe('machine$');
    expect(unixName('Bifh')).toBe(INVALID);
    expect(unixName('a'.repeat(33))).toBe(INVALID);
  });

  it('hosts and URLs', () => {
    expect(hostName('rabbit_1.example.org')).toBe('rabbit_1.example.org');
    expect(hostName('[::1]')).toBe('[::1]');
    expect(hostName('a b')).toBe(INVALID);
    expect(amqpUrl('amqps://u:p@h:5671/%2Fv?heartbeat=5')).not.toBe(INVALID);
    for (const bad of ['amqp://', 'amqp:h', 'http://h', 'amqp://h/a/b', 'amqp://h:99999', 'h']) {
      expect(amqpUrl(bad), bad).toBe(INVALID);
    }
  });

  it('workers is a count or a list of instances', () => {
    const workers = GROUP_KEYS.workers.parse;
    expect(workers('3')).toEqual({ count: 3 });
    expect(workers('0')).toEqual({ count: 0 });
    expect(workers('bifh1, bifh2')).toEqual({ instances: ['bifh1', 'bifh2'] });
    expect(workers('-1')).toBe(INVALID);
    expect(workers('2.5')).toBe(INVALID);
  });

  it('enabled is * or a list of types', () => {
    expect(WORKERPOOL_KEYS.enabled.parse('*')).toBe('*');
    expect(WORKERPOOL_KEYS.enabled.parse('echo, shell')).toEqual(['echo', 'shell']);
    expect(WORKERPOOL_KEYS.enabled.parse('')).toBe(INVALID);
  });
});
