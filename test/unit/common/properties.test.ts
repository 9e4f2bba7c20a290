import type { MessageProperties } from 'amqplib';
import { describe, expect, it } from 'vitest';
import {
  DROPPED_HEADERS_HEADER,
  encodableCopy,
  forwardProperties,
} from '../../../src/common/amqp/properties.js';

describe('encodableCopy: a message whose properties cannot be written again', () => {
  const unencodable = { '!': 'timestamp', value: 2n ** 64n - 1n };

  it("keeps the system's own plain headers and the properties that can be written, naming what it dropped", () => {
    const options = forwardProperties(
      {
        contentType: 'application/json',
        correlationId: 'c-1',
        messageId: 'm-1',
        replyTo: 'answers',
        timestamp: 2 ** 64,
        headers: { 'x-when': unencodable, 'x-other': 'fine', 'x-taskqueue-crashes': 2 },
      } as never,
      { 'x-taskqueue-attempt': 2 },
    );
    const copy = encodableCopy(options, 'value out of range');
    expect(copy).toMatchObject({
      persistent: true,
      contentType: 'application/json',
      correlationId: 'c-1',
      messageId: 'm-1',
      replyTo: 'answers',
    });
    expect(copy.timestamp).toBeUndefined();
    expect(copy.headers?.['x-taskqueue-crashes']).toBe(2);
    expect(copy.headers?.['x-taskqueue-attempt']).toBe(2);
    expect(copy.headers?.['x-when']).toBeUndefined();
    expect(copy.headers?.['x-other']).toBeUndefined();
    const why = String(copy.headers?.[DROPPED_HEADERS_HEADER]);
    expect(why).toContain('"x-when"');
    expect(why).toContain('"x-other"');
    expect(why).toContain('value out of range');
  });

  it('leaves out a short string that grew past 255 bytes as U+FFFD', () => {
    const copy = encodableCopy(
      { correlationId: '\ufffd'.repeat(100), messageId: 'ok' },
      'too long',
    );
    expect(copy.correlationId).toBeUndefined();
    expect(copy.messageId).toBe('ok');
  });
});

describe('forwardProperties: a consumed message published on unchanged', () => {
  const full: MessageProperties = {
    contentType: 'application/json',
    contentEncoding: 'gzip',
    headers: { 'x-a': 1, 'x-b': 'two' },
    deliveryMode: 1,
    priority: 5,
    correlationId: 'corr',
    replyTo: 'amq.gen-xyz',
    expiration: '60000',
    messageId: 'msg',
    timestamp: 1_700_000_000,
    type: 'kind',
    userId: 'alice',
    appId: 'app',
    clusterId: undefined,
  };

  it('carries every property but userId, and makes the message persistent', () => {
    expect(forwardProperties(full)).toEqual({
      persistent: true,
      contentType: 'application/json',
      contentEncoding: 'gzip',
      headers: { 'x-a': 1, 'x-b': 'two' },
      priority: 5,
      correlationId: 'corr',
      replyTo: 'amq.gen-xyz',
      expiration: '60000',
      messageId: 'msg',
      timestamp: 1_700_000_000,
      type: 'kind',
      appId: 'app',
    });
  });

  it('passes the headers table itself when there is nothing to add (the publisher copies it)', () => {
    expect(forwardProperties(full).headers).toBe(full.headers);
  });

  it('adds extra headers on a copy, over the message own of the same name', () => {
    const options = forwardProperties(full, { 'x-b': 'mine', 'x-c': 3 });
    expect(options.headers).toEqual({ 'x-a': 1, 'x-b': 'mine', 'x-c': 3 });
    expect(full.headers).toEqual({ 'x-a': 1, 'x-b': 'two' });
    expect(
      forwardProperties({ headers: undefined } as MessageProperties, { x: 1 }).headers,
    ).toEqual({ x: 1 });
  });

  it('leaves out what the message does not have', () => {
    expect(forwardProperties({ headers: undefined } as MessageProperties)).toEqual({
      persistent: true,
    });
  });
});
