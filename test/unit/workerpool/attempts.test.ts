import type { MessageProperties } from 'amqplib';
import { describe, expect, it } from 'vitest';
import {
  attemptOf,
  crashesOf,
  jittered,
  MAX_RETRY_DELAY_MS,
  retryDelayMs,
  taskKey,
} from '../../../src/workerpool/child/attempts.js';

const props = (headers: Record<string, unknown> = {}, extra: Partial<MessageProperties> = {}) =>
  ({ headers, ...extra }) as MessageProperties;

describe('attempts and crashes carried in headers', () => {
  it('reads the attempt, 1 when absent or nonsense', () => {
    expect(attemptOf(props())).toBe(1);
    expect(attemptOf(props({ 'x-taskqueue-attempt': 4 }))).toBe(4);
    expect(attemptOf(props({ 'x-taskqueue-attempt': '3' }))).toBe(3);
    expect(attemptOf(props({ 'x-taskqueue-attempt': 0 }))).toBe(1);
    expect(attemptOf(props({ 'x-taskqueue-attempt': -2 }))).toBe(1);
    expect(attemptOf(props({ 'x-taskqueue-attempt': 'many' }))).toBe(1);
  });

  it('reads the crash count and log', () => {
    expect(crashesOf(props())).toEqual({ count: 0, log: [] });
    expect(
      crashesOf(props({ 'x-taskqueue-crashes': 2, 'x-taskqueue-crash-log': ['a', 'b'] })),
    ).toEqual({ count: 2, log: ['a', 'b'] });
  });

  it('doubles the retry delay per attempt and caps it at an hour', () => {
    expect(retryDelayMs(10, 2)).toBe(10_000);
    expect(retryDelayMs(10, 3)).toBe(20_000);
    expect(retryDelayMs(10, 4)).toBe(40_000);
    expect(retryDelayMs(0.2, 3)).toBe(400);
    expect(retryDelayMs(0, 5)).toBe(0);
    expect(retryDelayMs(10, 40)).toBe(MAX_RETRY_DELAY_MS);
  });

  it('jitters a delay between 75 % and 100 %', () => {
    expect(jittered(1000, () => 0)).toBe(750);
    expect(jittered(1000, () => 0.999999)).toBe(1000);
  });

  it('keys a task by message id, else correlation id, else its body, per type', () => {
    const body = Buffer.from('{"a":1}');
    expect(taskKey('t', props({}, { messageId: 'm' }), body)).toBe(
      taskKey('t', props({}, { messageId: 'm' }), Buffer.from('other')),
    );
    expect(taskKey('t', props({}, { messageId: 'm' }), body)).not.toBe(
      taskKey('u', props({}, { messageId: 'm' }), body),
    );
    expect(taskKey('t', props({}, { correlationId: 'c' }), body)).toContain('c');
    expect(taskKey('t', props(), body)).toBe(taskKey('t', props(), Buffer.from('{"a":1}')));
    expect(taskKey('t', props(), body)).not.toBe(taskKey('t', props(), Buffer.from('{"a":2}')));
  });
});
