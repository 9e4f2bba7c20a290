import { afterEach, describe, expect, it } from 'vitest';
import {
  scheduleFromOptions,
  scheduleProperties,
  waitsLine,
} from '../../../src/cli/schedule-options.js';
import { MAX_DELAY_MS } from '../../../src/common/amqp/delay-names.js';
import { EXPIRES_AT_HEADER, NOT_BEFORE_HEADER } from '../../../src/common/amqp/wire.js';
import { TqError } from '../../../src/common/errors.js';
import { parseAtTime, parseDuration, untilText } from '../../../src/common/schedule.js';

const NOW = Date.parse('2026-12-07T12:00:00.000Z');

/** The usage error a call throws (its code asserted, its message returned for what it names). */
function refusal(call: () => unknown): string {
  try {
    call();
  } catch (err) {
    expect(err).toBeInstanceOf(TqError);
    expect((err as TqError).code).toBe('TQ_ERR_CLI_USAGE');
    return (err as TqError).message;
  }
  throw new Error('expected a refusal');
}

describe('parseDuration', () => {
  it('takes seconds bare or with s, and m, h, d, decimals too', () => {
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('0.25s')).toBe(250);
  });

  it('refuses what is not one', () => {
    for (const text of ['', '-5', '10x', '1h30m', 'm', '1e3', 'ten']) {
      expect(parseDuration(text), text).toBeUndefined();
    }
  });
});

describe('parseAtTime', () => {
  const tz = process.env.TZ;
  afterEach(() => {
    process.env.TZ = tz;
  });

  it('takes ISO 8601 with Z or an offset', () => {
    expect(parseAtTime('2026-12-07T14:30:00Z')).toBe(Date.parse('2026-12-07T14:30:00.000Z'));
    expect(parseAtTime('2026-12-07T15:30:00+01:00')).toBe(Date.parse('2026-12-07T14:30:00.000Z'));
    expect(parseAtTime('2026-12-07T14:30Z')).toBe(Date.parse('2026-12-07T14:30:00.000Z'));
  });

  it('reads a date-time without a zone in the local time zone (TZ)', () => {
    process.env.TZ = 'Europe/Paris';
    expect(parseAtTime('2026-12-07 14:30')).toBe(Date.parse('2026-12-07T13:30:00.000Z'));
    expect(parseAtTime('2026-12-07T14:30:15')).toBe(Date.parse('2026-12-07T13:30:15.000Z'));
    process.env.TZ = 'UTC';
    expect(parseAtTime('2026-12-07 14:30')).toBe(Date.parse('2026-12-07T14:30:00.000Z'));
  });

  it('refuses a time that is not a real one, or not in these forms', () => {
    for (const text of [
      '2026-02-30 10:00',
      '2026-12-07 25:00',
      '2026-13-01T00:00Z',
      '14:30',
      'tomorrow',
      '1765110600',
      '2026-12-07',
    ]) {
      expect(parseAtTime(text), text).toBeUndefined();
    }
  });
});

describe('scheduleFromOptions', () => {
  it('gives nothing for no options (the task is published as before)', () => {
    expect(scheduleFromOptions({}, NOW)).toEqual({});
    expect(scheduleProperties({})).toEqual({});
  });

  it('turns --delay and --ttl into absolute times, the ttl counted from the due time', () => {
    const schedule = scheduleFromOptions({ delay: '10m', ttl: '1h', priority: 7 }, NOW);
    expect(schedule).toEqual({
      priority: 7,
      notBefore: '2026-12-07T12:10:00.000Z',
      expiresAt: '2026-12-07T13:10:00.000Z',
    });
    expect(scheduleProperties(schedule)).toEqual({
      priority: 7,
      headers: {
        [NOT_BEFORE_HEADER]: '2026-12-07T12:10:00.000Z',
        [EXPIRES_AT_HEADER]: '2026-12-07T13:10:00.000Z',
      },
    });
  });

  it('takes --at and a ttl alone (counted from now)', () => {
    expect(scheduleFromOptions({ at: '2026-12-07T13:00:00Z' }, NOW)).toEqual({
      notBefore: '2026-12-07T13:00:00.000Z',
    });
    expect(scheduleFromOptions({ ttl: '30' }, NOW)).toEqual({
      expiresAt: '2026-12-07T12:00:30.000Z',
    });
    // A delay of 0 is no delay.
    expect(scheduleFromOptions({ delay: '0' }, NOW)).toEqual({});
  });

  it('takes a delay of exactly the longest, refuses one past it', () => {
    expect(scheduleFromOptions({ delay: '7d' }, NOW).notBefore).toBe(
      new Date(NOW + MAX_DELAY_MS).toISOString(),
    );
    expect(refusal(() => scheduleFromOptions({ delay: '8d' }, NOW))).toMatch(
      /^--delay: a task can wait at most 7 days/,
    );
    expect(refusal(() => scheduleFromOptions({ at: '2027-01-01T00:00:00Z' }, NOW))).toMatch(
      /^--at: a task can wait at most 7 days/,
    );
  });

  it('refuses --delay with --at, naming both', () => {
    expect(
      refusal(() => scheduleFromOptions({ delay: '10m', at: '2026-12-07T13:00:00Z' }, NOW)),
    ).toMatch(/--delay and --at/);
  });

  it('refuses a malformed duration or time, naming the option and the forms it takes', () => {
    expect(refusal(() => scheduleFromOptions({ delay: '-5' }, NOW))).toMatch(
      /^--delay "-5": not a duration \(90 for seconds/,
    );
    expect(refusal(() => scheduleFromOptions({ ttl: '1w' }, NOW))).toMatch(/^--ttl "1w"/);
    expect(refusal(() => scheduleFromOptions({ at: 'noon' }, NOW))).toMatch(
      /^--at "noon": not a time \(ISO 8601 with a zone/,
    );
    expect(refusal(() => scheduleFromOptions({ ttl: '0' }, NOW))).toMatch(
      /^--ttl: the ttl must be more than 0/,
    );
  });

  it('refuses an --at in the past beyond a minute, and takes one within it as now', () => {
    expect(refusal(() => scheduleFromOptions({ at: '2026-12-07T11:00:00Z' }, NOW))).toMatch(
      /^--at: not-before 2026-12-07T11:00:00.000Z is in the past/,
    );
    expect(scheduleFromOptions({ at: '2026-12-07T11:59:30Z' }, NOW)).toEqual({});
  });

  it('refuses a priority out of 0-255 or not whole', () => {
    for (const priority of [-1, 256, 1.5, Number.NaN]) {
      expect(
        refusal(() => scheduleFromOptions({ priority }, NOW)),
        String(priority),
      ).toMatch(/^--priority/);
    }
    expect(scheduleFromOptions({ priority: 0 }, NOW)).toEqual({ priority: 0 });
    expect(scheduleFromOptions({ priority: 255 }, NOW)).toEqual({ priority: 255 });
  });
});

describe('waitsLine and untilText', () => {
  it('says when a delayed task is due and how long until then', () => {
    expect(waitsLine('abc', '2026-12-07T12:10:00.000Z', NOW)).toBe(
      'task abc waits until 2026-12-07T12:10:00.000Z (in 10m)',
    );
    expect(untilText(12_000)).toBe('12s');
    expect(untilText(65 * 60_000)).toBe('1h 5m');
    expect(untilText(2 * 3_600_000)).toBe('2h');
    expect(untilText(51 * 3_600_000)).toBe('2d 3h');
  });
});
