import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/common/logger.js';

/** A logger whose lines are kept, parsed, instead of written to stdout. */
function recordingLogger(level: string) {
  const lines: string[] = [];
  const log = createLogger('tq-test', level, (line) => lines.push(line));
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { log, lines, parsed };
}

describe('createLogger', () => {
  it("writes one JSON line per event in pino's layout: level, time, pid, name, bindings, fields, msg", () => {
    const { log, lines } = recordingLogger('info');
    const before = Date.now();
    log.child({ group: 'echo' }).child({ taskId: 't1' }).info({ queue: 'q', n: 2 }, 'task parked');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('}\n')).toBe(true);
    const event = JSON.parse(lines[0] as string);
    expect(Object.keys(event)).toEqual([
      'level',
      'time',
      'pid',
      'name',
      'group',
      'taskId',
      'queue',
      'n',
      'msg',
    ]);
    expect(event).toMatchObject({
      level: 30,
      pid: process.pid,
      name: 'tq-test',
      msg: 'task parked',
    });
    expect(event.time).toBeGreaterThanOrEqual(before);
    expect(event.time).toBeLessThanOrEqual(Date.now());
  });

  it('writes nothing below its level, and says which levels it writes', () => {
    const { log, parsed } = recordingLogger('warn');
    log.trace('t');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    log.fatal('f');
    expect(parsed().map((e) => [e.level, e.msg])).toEqual([
      [40, 'w'],
      [50, 'e'],
      [60, 'f'],
    ]);
    expect(log.isLevelEnabled('info')).toBe(false);
    expect(log.isLevelEnabled('warn')).toBe(true);
    expect(log.child({ a: 1 }).isLevelEnabled('error')).toBe(true);
  });

  it('writes nothing at all when silent', () => {
    const { log, lines } = recordingLogger('silent');
    log.fatal({ err: new Error('x') }, 'fatal');
    expect(lines).toEqual([]);
    expect(log.isLevelEnabled('fatal')).toBe(false);
  });

  it('writes an Error as pino writes err: type, message, stack, own fields and cause', () => {
    const { log, parsed } = recordingLogger('info');
    const cause = new RangeError('deep');
    const err = Object.assign(new TypeError('outer', { cause }), { code: 'TQ_ERR_X' });
    log.error({ err }, 'failed');
    log.error(err);
    const [withFields, alone] = parsed();
    expect(withFields?.err).toMatchObject({
      type: 'TypeError',
      message: 'outer',
      code: 'TQ_ERR_X',
      stack: expect.stringContaining('TypeError: outer'),
      cause: { type: 'RangeError', message: 'deep' },
    });
    expect(withFields?.msg).toBe('failed');
    expect(alone?.err).toMatchObject({ type: 'TypeError', message: 'outer' });
    expect(alone?.msg).toBe('outer');
  });

  it('writes a cycle as "[Circular]" and a BigInt as a string instead of throwing', () => {
    const { log, parsed } = recordingLogger('info');
    const node: Record<string, unknown> = { name: 'a' };
    node.self = node;
    const shared = { x: 1 };
    log.info({ node, big: 2n ** 70n, pair: [shared, shared] }, 'odd fields');
    expect(parsed()[0]).toMatchObject({
      node: { name: 'a', self: '[Circular]' },
      big: '1180591620717411303424',
      pair: [{ x: 1 }, { x: 1 }],
      msg: 'odd fields',
    });
  });

  it('writes a valid line whatever a plugin passes: arrays, dates, self-caused errors, bad getters', () => {
    const { log, lines } = recordingLogger('info');
    const looped = new Error('loop');
    looped.cause = looped;
    const hostile = {
      get boom(): never {
        throw new Error('getter failed');
      },
    };
    log.info([1, 2], 'an array');
    log.info(new Date(0) as object, 'a date');
    log.error({ err: looped }, 'its own cause');
    log.warn(hostile, 'a getter that throws');
    log.info({ n: 1 }, 42 as unknown as string);
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.map((e) => e.msg)).toEqual([
      'an array',
      'a date',
      'its own cause',
      'a getter that throws',
      '42',
    ]);
    expect(events[0]?.value).toEqual([1, 2]);
    expect(events[1]?.value).toBe('1970-01-01T00:00:00.000Z');
    expect(events[2]?.err).toMatchObject({ type: 'Error', message: 'loop', cause: '[Circular]' });
    expect(events[3]?.unserializable).toBe('getter failed');
  });

  it('refuses a level pino does not know, with the config-value code', () => {
    expect(() => createLogger('tq-test', 'verbose', () => {})).toThrow(
      expect.objectContaining({ code: 'TQ_ERR_CONFIG_VALUE' }),
    );
  });
});
