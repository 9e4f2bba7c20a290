import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/common/logger.js';

const LINE_BUDGET = 64 * 1024;

function recordingLogger() {
  const lines: string[] = [];
  const log = createLogger('tq-test', 'info', (line) => lines.push(line));
  const last = () => {
    const line = lines.at(-1)!;
    expect(line.length).toBeLessThanOrEqual(LINE_BUDGET);
    expect(line.endsWith('}\n')).toBe(true);
    return JSON.parse(line) as Record<string, unknown>;
  };
  return { log, lines, last };
}

describe('the log line budget', () => {
  it('cuts a 19 MiB string field to its head with a marker, keeping the other fields', () => {
    const { log, last } = recordingLogger();
    const body = 'x'.repeat(19 * 1024 * 1024);
    log.warn({ messageId: 'm1', reason: body, queue: 'taskqueue.invalid' }, 'invalid task parked');
    const event = last();
    expect(event.messageId).toBe('m1');
    expect(event.queue).toBe('taskqueue.invalid');
    expect(event.msg).toBe('invalid task parked');
    expect(String(event.reason)).toMatch(/^x{4096}…\[19918848 more chars\]$/);
  });

  it('cuts a huge message, an error with a huge message, and huge bindings', () => {
    const { log, last } = recordingLogger();
    log.error('y'.repeat(1_000_000));
    expect(String(last().msg)).toMatch(/^y{4096}…\[995904 more chars\]$/);

    log.error({ err: new Error('z'.repeat(1_000_000)) }, 'failed');
    const err = last().err as { message: string; type: string };
    expect(err.type).toBe('Error');
    expect(err.message).toMatch(/^z{4096}…\[995904 more chars\]$/);

    log.child({ task: 'w'.repeat(1_000_000) }).info({ n: 1 }, 'bound');
    const bound = last();
    expect(String(bound.task)).toMatch(/^w{4096}…/);
    expect(bound.n).toBe(1);
  });

  it('replaces fields that stay too large with many small strings by the head of their JSON', () => {
    const { log, last } = recordingLogger();
    const many = Array.from({ length: 200_000 }, (_, n) => `item-${n}`);
    log.info({ many }, 'a long list');
    const event = last();
    expect(event.msg).toBe('a long list');
    const truncated = event.truncated as { chars: number; head: string };
    expect(truncated.chars).toBeGreaterThan(2_000_000);
    expect(truncated.head.startsWith('{"many":["item-0","item-1"')).toBe(true);
  });

  it('stays within budget when every part is near its own bound, escapes and all', () => {
    const { log, last } = recordingLogger();
    const escapes = '\u0001'.repeat(100_000); // six characters each when written
    log.child({ a: escapes }).info({ b: escapes, c: escapes }, escapes);
    const event = last();
    expect(event.level).toBe(30);
    expect(event.name).toBe('tq-test');
  });

  it('writes a line within budget exactly as before', () => {
    const { log, lines } = recordingLogger();
    const reason = 'r'.repeat(4096);
    log.info({ reason, nested: { list: [1, 'two'] } }, 'ok');
    const event = JSON.parse(lines[0]!);
    expect(event.reason).toBe(reason);
    expect(event.nested).toEqual({ list: [1, 'two'] });
  });
});
