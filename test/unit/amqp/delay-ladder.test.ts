import type { Options } from 'amqplib';
import { describe, expect, it } from 'vitest';
import {
  delayQueueDeclaration,
  delayRoutingKey,
  delayUnits,
  deliverPattern,
  levelPattern,
  publishDelayed,
} from '../../../src/common/amqp/delay.js';
import {
  DELAY_DELIVER_EXCHANGE,
  DELAY_ENTRY_EXCHANGE,
  DELAY_LEVELS,
  DELAY_UNIT_MS,
  delayExchange,
  levelDelayMs,
  MAX_DELAY_MS,
} from '../../../src/common/amqp/delay-names.js';
import type { ConfirmedPublisher } from '../../../src/common/amqp/publisher.js';
import { NOT_BEFORE_HEADER } from '../../../src/common/amqp/wire.js';
import { hasCode } from '../../../src/common/errors.js';

/** RabbitMQ's topic matching: `*` one word, `#` zero or more. */
function topicMatches(pattern: string, key: string): boolean {
  const match = (p: string[], k: string[]): boolean => {
    if (p.length === 0) return k.length === 0;
    const [head, ...rest] = p;
    if (head === '#') return k.some((_, i) => match(rest, k.slice(i))) || match(rest, []);
    if (k.length === 0) return false;
    return (head === '*' || head === k[0]) && match(rest, k.slice(1));
  };
  return match(pattern.split('.'), key.split('.'));
}

/**
 * Follows a routing key through the ladder's bindings as the broker would: the levels whose
 * queue it waits in, and whether the deliver exchange's binding of `queue` takes it at the end.
 */
function walk(key: string, queue: string): { levels: number[]; delivered: boolean } {
  const levels: number[] = [];
  for (let level = DELAY_LEVELS - 1; level >= 0; level--) {
    const toQueue = topicMatches(levelPattern(level, 1), key);
    const onward = topicMatches(levelPattern(level, 0), key);
    // Exactly one of the two bindings of every level takes every key.
    expect(toQueue !== onward).toBe(true);
    if (toQueue) levels.push(level);
  }
  return { levels, delivered: topicMatches(deliverPattern(queue), key) };
}

describe('delay ladder routing key', () => {
  it('spells the delay in binary, highest level first, then the destination', () => {
    expect(delayRoutingKey(100, 'worker_echo')).toBe(`${'0.'.repeat(22)}1.worker_echo`);
    expect(delayRoutingKey(300, 'worker_echo')).toBe(`${'0.'.repeat(21)}1.1.worker_echo`);
    expect(delayRoutingKey(0, 'worker_a.b')).toBe(`${'0.'.repeat(23)}worker_a.b`);
    expect(delayRoutingKey(levelDelayMs(22), 'q')).toBe(`1.${'0.'.repeat(22)}q`);
  });

  it('rounds a delay up to whole units, never down', () => {
    expect(delayUnits(1)).toBe(1);
    expect(delayUnits(100)).toBe(1);
    expect(delayUnits(101)).toBe(2);
    expect(delayUnits(0)).toBe(0);
    expect(delayUnits(-5)).toBe(0);
    expect(delayRoutingKey(101, 'q')).toBe(delayRoutingKey(200, 'q'));
  });

  it('holds a task exactly the rounded delay: the levels it waits in sum to it', () => {
    const delays = [1, 99, 100, 101, 999, 1000, 1001, 59_999, 60_000, 3_600_000, 86_400_123];
    for (let i = 0; i < 300; i++) delays.push(Math.floor(Math.random() * MAX_DELAY_MS));
    delays.push(MAX_DELAY_MS);
    for (const delay of delays) {
      const key = delayRoutingKey(delay, 'worker_echo');
      const { levels, delivered } = walk(key, 'worker_echo');
      const held = levels.reduce((sum, level) => sum + levelDelayMs(level), 0);
      expect(held).toBe(Math.ceil(delay / DELAY_UNIT_MS) * DELAY_UNIT_MS);
      expect(held).toBeGreaterThanOrEqual(delay);
      expect(held - delay).toBeLessThan(DELAY_UNIT_MS);
      expect(delivered).toBe(true);
    }
  });

  it('delivers to its destination only, also with dots in the queue name', () => {
    const key = delayRoutingKey(1500, 'worker_a.b');
    expect(topicMatches(deliverPattern('worker_a.b'), key)).toBe(true);
    expect(topicMatches(deliverPattern('worker_a'), key)).toBe(false);
    expect(topicMatches(deliverPattern('worker_a.b.c'), key)).toBe(false);
  });

  it('fits the longest worker queue name in a routing key (255 bytes)', () => {
    const longest = `worker_${'a'.repeat(201)}`;
    expect(Buffer.byteLength(delayRoutingKey(MAX_DELAY_MS, longest))).toBeLessThanOrEqual(255);
  });

  it('refuses a delay above 7 days or not a number, with TQ_ERR_DELAY_INVALID', () => {
    for (const bad of [MAX_DELAY_MS + 1, Number.NaN, Number.POSITIVE_INFINITY]) {
      let thrown: unknown;
      try {
        delayRoutingKey(bad, 'q');
      } catch (err) {
        thrown = err;
      }
      expect(hasCode(thrown, 'TQ_ERR_DELAY_INVALID')).toBe(true);
    }
  });
});

describe('delay ladder queues', () => {
  it('dead-letter each level to the next lower exchange, level 0 to the deliver exchange', () => {
    expect(delayQueueDeclaration(0, 'classic').options.arguments).toEqual({
      'x-message-ttl': 100,
      'x-dead-letter-exchange': DELAY_DELIVER_EXCHANGE,
    });
    expect(delayQueueDeclaration(5, 'classic').options.arguments).toMatchObject({
      'x-message-ttl': 3200,
      'x-dead-letter-exchange': delayExchange(4),
    });
  });

  it('dead-letter at least once on quorum queues', () => {
    expect(delayQueueDeclaration(3, 'quorum').options.arguments).toMatchObject({
      'x-queue-type': 'quorum',
      'x-message-ttl': 800,
      'x-dead-letter-exchange': delayExchange(2),
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    });
  });
});

describe('publishDelayed', () => {
  it('enters at the top level, without expiration, its due time in the header, the input untouched', async () => {
    const sent: { exchange: string; key: string; options: Options.Publish }[] = [];
    const publisher = {
      publish: async (
        exchange: string,
        key: string,
        _content: Buffer,
        options: Options.Publish,
      ) => {
        sent.push({ exchange, key, options });
      },
    } as unknown as ConfirmedPublisher;
    const now = Date.parse('2026-12-07T05:00:00.000Z');
    const headers = { keep: 'me' };
    const options: Options.Publish = { expiration: '5', messageId: 'm', headers };
    await publishDelayed(publisher, Buffer.from('x'), options, 'worker_echo', now + 250, now);
    // Further than 7 days: held the longest delay (the child sends it back for the rest).
    await publishDelayed(
      publisher,
      Buffer.from('x'),
      {},
      'worker_echo',
      now + MAX_DELAY_MS * 2,
      now,
    );
    expect(sent[0]).toEqual({
      exchange: DELAY_ENTRY_EXCHANGE,
      key: delayRoutingKey(300, 'worker_echo'),
      options: {
        messageId: 'm',
        headers: { keep: 'me', [NOT_BEFORE_HEADER]: '2026-12-07T05:00:00.250Z' },
      },
    });
    expect(options).toEqual({ expiration: '5', messageId: 'm', headers: { keep: 'me' } });
    expect(sent[1]?.key).toBe(delayRoutingKey(MAX_DELAY_MS, 'worker_echo'));
  });
});
