import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import {
  type Program,
  startDispatcher,
  startPool,
  testConfig,
  writeConfig,
} from '../support/programs.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('dispatcher forwarding', () => {
  let url: string;
  let client: TestClient;
  let dispatcher: Program;
  let config: ReturnType<typeof writeConfig>;

  beforeAll(async () => {
    url = await useVhost('forward');
    config = writeConfig(testConfig(url, ['late'], '[late]\nworkers = 1\n'));
    dispatcher = startDispatcher(config.file);
    await dispatcher.waitFor(/dispatcher consuming/);
    client = await TestClient.connect(url);
  });

  afterAll(async () => {
    await client?.close();
    await dispatcher?.stop();
    config?.cleanup();
  });

  it('forwards body and properties byte for byte to worker_<type>', async () => {
    // Odd but valid JSON: key order, spacing and unicode escapes must survive untouched.
    const body = Buffer.from(
      '{ "z": 1, "fields": {"params": {"worker_type": "fwd"}, "s": "\\u00e9t\\u00e9"} ,"a":[ ]}',
    );
    const properties = {
      contentType: 'application/json',
      contentEncoding: 'identity',
      messageId: 'msg-123',
      correlationId: 'corr-456',
      replyTo: 'some-reply-queue',
      headers: { 'x-custom': 'value', 'x-number': 7, 'x-nested': { a: 'b' } },
      priority: 5,
      timestamp: 1_700_000_000,
      appId: 'test-suite',
      type: 'build',
    };
    // Declared first so the consumer below does not race the dispatcher's declaration.
    await client.declare('worker_fwd');
    await client.publish('taskqueue', body, properties);
    const [forwarded] = await client.collect('worker_fwd', 1, 30_000);
    expect(forwarded).toBeDefined();
    expect(sha256(forwarded!.content)).toBe(sha256(body));
    const p = forwarded!.properties;
    expect(p.contentType).toBe(properties.contentType);
    expect(p.contentEncoding).toBe(properties.contentEncoding);
    expect(p.messageId).toBe(properties.messageId);
    expect(p.correlationId).toBe(properties.correlationId);
    expect(p.replyTo).toBe(properties.replyTo);
    expect(p.headers).toEqual(properties.headers);
    expect(p.priority).toBe(properties.priority);
    expect(p.timestamp).toBe(properties.timestamp);
    expect(p.appId).toBe(properties.appId);
    expect(p.type).toBe(properties.type);
    expect(p.deliveryMode).toBe(2);
    expect(await client.messageCount('taskqueue')).toBe(0);
  });

  it('forwards each task with its own headers when many share the same header names', async () => {
    // The publisher reuses one headers object per list of names (reusable-headers.ts): no task may
    // go out with another's values, a missing value, or its names in another order.
    const sent = Array.from({ length: 30 }, (_, n) => {
      if (n % 3 === 0) return { 'x-seq': n, 'x-label': `task ${n}` };
      if (n % 3 === 1) return { 'x-label': `task ${n}`, 'x-seq': n };
      return { 'x-seq': n, 'x-label': `task ${n}`, 'x-extra': [n, { n }] };
    });
    await client.declare('worker_hdr');
    for (const [n, headers] of sent.entries()) {
      await client.publish('taskqueue', workitem('hdr', { n }), {
        correlationId: `hdr-${n}`,
        headers,
      });
    }
    const forwarded = await client.collect('worker_hdr', sent.length, 30_000);
    expect(forwarded).toHaveLength(sent.length);
    for (const message of forwarded) {
      const n = Number(message.properties.correlationId.slice('hdr-'.length));
      expect(message.properties.headers).toEqual(sent[n]);
      expect(Object.keys(message.properties.headers ?? {})).toEqual(Object.keys(sent[n]!));
    }
  });

  it('keeps tasks for a type nobody consumes yet, and they are processed when a child starts', async () => {
    for (let n = 0; n < 20; n++) {
      await client.publish('taskqueue', workitem('late', { n }), { correlationId: `late-${n}` });
    }
    // The dispatcher declared worker_late itself, so the broker kept the tasks.
    await expect.poll(() => client.messageCount('worker_late'), { timeout: 20_000 }).toBe(20);
    // Declared here so the consumer below does not race the pool's own declaration.
    await client.declare('results');
    const pool = startPool(config.file);
    try {
      const results = await client.collect('results', 20, 60_000);
      expect(results.map((m) => m.properties.correlationId).sort()).toEqual(
        Array.from({ length: 20 }, (_, n) => `late-${n}`).sort(),
      );
      for (const result of results) {
        expect(JSON.parse(result.content.toString()).fields.processed_by).toBe('late');
      }
    } finally {
      await pool.stop();
    }
  });
});
