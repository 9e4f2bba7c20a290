import type { Options } from 'amqplib';
import { describe, expect, it } from 'vitest';
import {
  type BrokerVersion,
  describePlan,
  forwardPriority,
  type PriorityPlan,
  parseBrokerVersion,
  planAdvice,
  priorityPlan,
} from '../../../src/common/amqp/broker-features.js';
import { parseConfigText } from '../../../src/common/config/load.js';
import type { QueueType } from '../../../src/common/config/types.js';
import { hasCode, type TqError } from '../../../src/common/errors.js';
import { TypePriorities } from '../../../src/common/forward/type-priorities.js';

const v = (text: string): BrokerVersion => parseBrokerVersion(text)!;

/** The plan's kind, or the refusal's code. */
function outcome(queueType: QueueType, maxPriority: number | undefined, version?: string): string {
  try {
    const request = { type: 'build', queueType, maxPriority };
    return priorityPlan(request, version === undefined ? undefined : v(version)).kind;
  } catch (err) {
    return (err as TqError).code;
  }
}

describe('parseBrokerVersion', () => {
  it.each([
    ['3.10.8', [3, 10, 8]],
    ['4.0.5', [4, 0, 5]],
    ['4.3.0+12.g1a2b3c4', [4, 3, 0]],
    ['3.13.0-rc.1', [3, 13, 0]],
    ['4.1', [4, 1, 0]],
  ])('reads %s', (text, [major, minor, patch]) => {
    expect(parseBrokerVersion(text)).toEqual({ major, minor, patch, text });
  });

  it.each([undefined, '', 'unknown', 'v4.0.5', 4])('has no version for %j', (text) => {
    expect(parseBrokerVersion(text)).toBeUndefined();
  });
});

describe('priorityPlan: what each broker honours', () => {
  // [queue_type, max_priority, broker version, outcome]
  const table: Array<[QueueType, number | undefined, string | undefined, string]> = [
    ['classic', undefined, '3.10.8', 'none'],
    ['quorum', undefined, '3.10.8', 'none'],
    ['quorum', undefined, undefined, 'none'],
    ['classic', 1, '3.10.8', 'classic'],
    ['classic', 255, '3.10.8', 'classic'],
    ['classic', 5, '4.0.5', 'classic'],
    ['classic', 5, '4.3.0', 'classic'],
    ['classic', 5, undefined, 'classic'],
    ['quorum', 1, '3.10.8', 'TQ_ERR_PRIORITY_UNSUPPORTED'],
    ['quorum', 1, '3.13.7', 'TQ_ERR_PRIORITY_UNSUPPORTED'],
    ['quorum', 1, undefined, 'TQ_ERR_PRIORITY_UNSUPPORTED'],
    ['quorum', 1, '4.0.0', 'quorum-two-levels'],
    ['quorum', 1, '4.0.5', 'quorum-two-levels'],
    ['quorum', 1, '4.2.9', 'quorum-two-levels'],
    ['quorum', 2, '4.0.5', 'TQ_ERR_PRIORITY_UNSUPPORTED'],
    ['quorum', 5, '4.2.1', 'TQ_ERR_PRIORITY_UNSUPPORTED'],
    ['quorum', 1, '4.3.0', 'quorum-strict'],
    ['quorum', 31, '4.3.0', 'quorum-strict'],
    ['quorum', 32, '4.3.0', 'TQ_ERR_PRIORITY_UNSUPPORTED'],
    ['quorum', 10, '5.0.0', 'quorum-strict'],
  ];
  it.each(table)('%s with max_priority %s on %s: %s', (queueType, max, version, expected) => {
    expect(outcome(queueType, max, version)).toBe(expected);
  });

  it('names the type, queue_type, broker version and what this broker accepts', () => {
    const refused = (max: number, version: string) => {
      try {
        priorityPlan({ type: 'build', queueType: 'quorum', maxPriority: max }, v(version));
      } catch (err) {
        expect(hasCode(err, 'TQ_ERR_PRIORITY_UNSUPPORTED')).toBe(true);
        return (err as Error).message;
      }
      throw new Error('not refused');
    };
    const old = refused(3, '3.10.8');
    expect(old).toMatch(/\[build\] max_priority = 3/);
    expect(old).toMatch(/queue_type = quorum on RabbitMQ 3\.10\.8/);
    expect(old).toMatch(
      /accepts no max_priority on quorum queues; with queue_type = classic, max_priority 1–255/,
    );
    expect(refused(5, '4.0.5')).toMatch(
      /on RabbitMQ 4\.0\.5: quorum queues have two levels only.*accepts max_priority = 1 on quorum/,
    );
    expect(refused(40, '4.3.1')).toMatch(
      /on RabbitMQ 4\.3\.1.*accepts max_priority 1–31 on quorum/,
    );
  });
});

describe('forwardPriority: what a forwarded task carries', () => {
  const none: PriorityPlan = { kind: 'none' };
  const classic: PriorityPlan = { kind: 'classic', maxPriority: 5 };
  const twoLevels: PriorityPlan = { kind: 'quorum-two-levels', version: '4.0.5' };
  const strict: PriorityPlan = { kind: 'quorum-strict', maxPriority: 5, version: '4.3.0' };
  // [plan, priority in, priority out]
  const table: Array<[PriorityPlan, number | undefined, number | undefined]> = [
    [none, undefined, undefined],
    [none, 9, 9],
    [classic, undefined, undefined],
    [classic, 0, 0],
    [classic, 200, 200], // the broker caps it at x-max-priority
    [twoLevels, undefined, undefined],
    [twoLevels, 0, 0],
    [twoLevels, 1, 5],
    [twoLevels, 4, 5],
    [twoLevels, 5, 5],
    [twoLevels, 255, 5],
    [strict, undefined, 0], // 4.3 reads an absent priority as 4: made explicit
    [strict, 0, 0],
    [strict, 3, 3],
    [strict, 5, 5],
    [strict, 31, 5],
  ];
  it.each(table)('%j: %s → %s', (plan, priority, expected) => {
    expect(forwardPriority(plan, priority)).toBe(expected);
  });

  it('gives the same value when applied again (retries, hand-backs)', () => {
    for (const plan of [classic, twoLevels, strict])
      for (const p of [undefined, 0, 1, 4, 5, 6, 31, 255]) {
        const once = forwardPriority(plan, p);
        expect(forwardPriority(plan, once)).toBe(once);
      }
  });
});

describe('describePlan and planAdvice', () => {
  it('says what applies in one line', () => {
    expect(describePlan('build', { kind: 'none' })).toBeUndefined();
    expect(describePlan('build', { kind: 'classic', maxPriority: 5 })).toMatch(
      /^worker_build: 5 priority levels above 0 \(classic, x-max-priority 5\)$/,
    );
    expect(describePlan('build', { kind: 'quorum-two-levels', version: '4.0.5' })).toMatch(
      /^worker_build: two levels normal\/high \(quorum, RabbitMQ 4\.0\.5\)/,
    );
  });

  it('warns above 10 classic levels only', () => {
    expect(planAdvice('build', { kind: 'classic', maxPriority: 10 })).toBeUndefined();
    expect(planAdvice('build', { kind: 'classic', maxPriority: 11 })).toMatch(/single-digit/);
  });
});

describe("TypePriorities: the dispatcher's plans for a connection", () => {
  const load = (text: string) => parseConfigText(text, 'test.ini', {});
  const quorum = (sections: string) => `[amqp]\nqueue_type = quorum\n${sections}`;

  it('maps the forward of a two-level quorum type only, by a lookup', () => {
    const priorities = new TypePriorities(
      load(quorum('[build]\nmax_priority = 1\n[echo]\nworkers = 1\n')),
      v('4.0.5'),
    );
    const forwarded = (type: string, priority?: number) => {
      const options: Options.Publish = priority === undefined ? {} : { priority };
      priorities.adjust(type, options);
      return options.priority;
    };
    expect([forwarded('build', 1), forwarded('build', 0), forwarded('build')]).toEqual([
      5,
      0,
      undefined,
    ]);
    expect([forwarded('echo', 1), forwarded('other', 3)]).toEqual([1, 3]);
    expect(priorities.maxPriority('build')).toBe(1);
    expect(priorities.maxPriority('other')).toBeUndefined();
  });

  it("gives a type without a section [DEFAULT]'s max_priority", () => {
    const config = load('[DEFAULT]\nmax_priority = 3\n[echo]\nmax_priority = 7\n');
    const priorities = new TypePriorities(config, v('3.10.8'));
    expect([priorities.maxPriority('echo'), priorities.maxPriority('other')]).toEqual([7, 3]);
  });

  it('refuses at (re)connect a configured type the broker cannot honour', () => {
    const config = load(quorum('[build]\nmax_priority = 1\n'));
    expect(() => new TypePriorities(config, v('3.10.8'))).toThrow(/\[build\] max_priority = 1/);
    const onDefault = load(quorum('[DEFAULT]\nmax_priority = 2\n'));
    expect(() => new TypePriorities(onDefault, v('4.0.5'))).toThrow(
      /\[DEFAULT\] max_priority = 2 cannot be honoured/,
    );
  });
});
