import type { Workitem } from '@taskqueue/plugin-api';
import type { ConsumeMessage, MessageProperties, Options } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { ConfirmedPublisher } from '../../../src/common/amqp/publisher.js';
import { UNROUTABLE_RESULTS_QUEUE } from '../../../src/common/amqp/queues.js';
import { ERROR_HEADER } from '../../../src/common/amqp/wire.js';
import type { GroupConfig } from '../../../src/common/config/types.js';
import { hasCode, TqError } from '../../../src/common/errors.js';
import { createLogger } from '../../../src/common/logger.js';
import {
  fitsShortString,
  publishResult,
  REPLY_TO_REFUSED_HEADER,
} from '../../../src/workerpool/child/result-route.js';

const group = {
  type: 'echo',
  resultsExchange: 'wf',
  resultsRoutingKey: 'ruote_workitems',
} as GroupConfig;

interface Sent {
  exchange: string;
  routingKey: string;
  body: string;
  options: Options.Publish;
}

/** A publisher that records what it sends and fails with `refuse(exchange, key)`'s error, if any. */
function fakePublisher(refuse: (exchange: string, key: string) => unknown = () => undefined) {
  const sent: Sent[] = [];
  const publisher = {
    publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish) {
      const err = refuse(exchange, routingKey);
      if (err) return Promise.reject(err);
      sent.push({ exchange, routingKey, body: content.toString(), options });
      return Promise.resolve();
    },
  } as unknown as ConfirmedPublisher;
  return { publisher, sent };
}

const unroutable = new TqError('TQ_ERR_AMQP_UNROUTABLE', 'returned');
const logger = createLogger('test', 'fatal', () => {});
const log = () => logger;

function task(properties: Partial<MessageProperties> = {}): ConsumeMessage {
  return {
    content: Buffer.from('{}'),
    fields: { deliveryTag: 1, redelivered: false },
    properties: { headers: {}, ...properties },
  } as unknown as ConsumeMessage;
}

const result = { fields: { answer: 42 } } as Workitem;
const facts = { attempts: 2, durationMs: 17 };

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('publishResult: where a result goes and what it carries', () => {
  it('sends to the configured route, as persistent JSON with the run in headers', async () => {
    const { publisher, sent } = fakePublisher();
    await publishResult(
      publisher,
      group,
      'taskqueue',
      task({ messageId: 'm-1' }),
      result,
      facts,
      log,
    );
    expect(sent).toHaveLength(1);
    const [s] = sent;
    expect(s?.exchange).toBe('wf');
    expect(s?.routingKey).toBe('ruote_workitems');
    expect(JSON.parse(s?.body ?? '')).toEqual(result);
    expect(s?.options).toMatchObject({
      contentType: 'application/json',
      persistent: true,
      correlationId: 'm-1',
      headers: { 'x-worker-type': 'echo', 'x-attempts': 2, 'x-duration-ms': 17 },
    });
    expect(typeof s?.options.headers?.['x-worker-host']).toBe('string');
  });

  it('keeps the correlation_id before the message_id, and drops one too long to send back', async () => {
    const { publisher, sent } = fakePublisher();
    await publishResult(
      publisher,
      group,
      'taskqueue',
      task({ correlationId: 'c', messageId: 'm' }),
      result,
      facts,
      log,
    );
    const tooLong = '\ufffd'.repeat(100);
    await publishResult(
      publisher,
      group,
      'taskqueue',
      task({ correlationId: tooLong }),
      result,
      facts,
      log,
    );
    expect(sent[0]?.options.correlationId).toBe('c');
    expect(sent[1]?.options.correlationId).toBeUndefined();
  });

  it('answers a reply_to queue instead, and falls back to the route when that queue is gone', async () => {
    const { publisher, sent } = fakePublisher();
    await publishResult(
      publisher,
      group,
      'taskqueue',
      task({ replyTo: 'my-answers' }),
      result,
      facts,
      log,
    );
    expect(sent.map((s) => [s.exchange, s.routingKey])).toEqual([['', 'my-answers']]);

    const gone = fakePublisher((_e, key) => (key === 'my-answers' ? unroutable : undefined));
    await publishResult(
      gone.publisher,
      group,
      'taskqueue',
      task({ replyTo: 'my-answers' }),
      result,
      facts,
      log,
    );
    expect(gone.sent.map((s) => s.routingKey)).toEqual(['ruote_workitems']);
  });

  it('sends a direct reply-to answer not mandatory, with no fallback', async () => {
    const direct = 'amq.rabbitmq.reply-to.g1h2AA5yZWFjdA==.rHkRD3aOaNK9tJmoKYSN5w==';
    const { publisher, sent } = fakePublisher();
    await publishResult(
      publisher,
      group,
      'taskqueue',
      task({ replyTo: direct }),
      result,
      facts,
      log,
    );
    expect(sent).toHaveLength(1);
    expect(sent[0]?.routingKey).toBe(direct);
    expect(sent[0]?.options.mandatory).toBe(false);
  });

  it('refuses a reply_to naming a queue of the system: the route gets it, with the reason', async () => {
    const { publisher, sent } = fakePublisher();
    await publishResult(
      publisher,
      group,
      'taskqueue',
      task({ replyTo: 'worker_other' }),
      result,
      facts,
      log,
    );
    expect(sent.map((s) => s.routingKey)).toEqual(['ruote_workitems']);
    expect(sent[0]?.options.headers?.[REPLY_TO_REFUSED_HEADER]).toMatch(
      /^reply_to "worker_other" refused: names a worker queue/,
    );
  });

  it('parks a result no queue would receive on the unroutable queue, with the reason', async () => {
    const { publisher, sent } = fakePublisher((e) => (e === 'wf' ? unroutable : undefined));
    await publishResult(publisher, group, 'taskqueue', task(), result, facts, log);
    expect(sent.map((s) => [s.exchange, s.routingKey])).toEqual([['', UNROUTABLE_RESULTS_QUEUE]]);
    expect(sent[0]?.options.headers?.[ERROR_HEADER]).toBe(
      'no queue is bound to exchange "wf" with key "ruote_workitems"',
    );
  });

  it('refuses unsent a result as large as one the broker refused before', async () => {
    const { publisher, sent } = fakePublisher();
    const size = JSON.stringify(result).length;
    const err = await errorOf(
      publishResult(publisher, group, 'taskqueue', task(), result, facts, log, size),
    );
    expect(hasCode(err, 'TQ_ERR_RESULT_TOO_LARGE')).toBe(true);
    expect((err as TqError).details).toEqual({ bytes: size, byBroker: false });
    expect(sent).toEqual([]);
    // One byte under it goes.
    await publishResult(publisher, group, 'taskqueue', task(), result, facts, log, size + 1);
    expect(sent).toHaveLength(1);
  });

  it('names a result the broker refused as too large, by the broker', async () => {
    const refused = new TqError('TQ_ERR_AMQP_REFUSED', 'channel closed: frame too large');
    const { publisher } = fakePublisher(() => refused);
    const err = await errorOf(
      publishResult(publisher, group, 'taskqueue', task(), result, facts, log),
    );
    expect(hasCode(err, 'TQ_ERR_RESULT_TOO_LARGE')).toBe(true);
    expect((err as TqError).details.byBroker).toBe(true);
    expect((err as TqError).cause).toBe(refused);
  });

  it('passes any other publish failure on as it is', async () => {
    const closed = new TqError('TQ_ERR_AMQP_CHANNEL_CLOSED', 'closed');
    const { publisher } = fakePublisher(() => closed);
    expect(
      await errorOf(publishResult(publisher, group, 'taskqueue', task(), result, facts, log)),
    ).toBe(closed);
  });

  it('refuses a result that cannot be written as JSON', async () => {
    const { publisher, sent } = fakePublisher();
    const cyclic = { fields: {} } as Workitem & { self?: unknown };
    cyclic.self = cyclic;
    const err = await errorOf(
      publishResult(publisher, group, 'taskqueue', task(), cyclic, facts, log),
    );
    expect(hasCode(err, 'TQ_ERR_RESULT_UNSERIALIZABLE')).toBe(true);
    expect(sent).toEqual([]);
  });
});

describe('fitsShortString', () => {
  it('measures encoded bytes, not UTF-16 units', () => {
    expect(fitsShortString('a'.repeat(255))).toBe(true);
    expect(fitsShortString('a'.repeat(256))).toBe(false);
    expect(fitsShortString('\ufffd'.repeat(85))).toBe(true);
    expect(fitsShortString('\ufffd'.repeat(86))).toBe(false);
  });
});
