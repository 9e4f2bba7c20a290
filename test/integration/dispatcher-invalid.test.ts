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

/** Ten kinds of garbage, each with the reason the dispatcher must give. */
const GARBAGE: Array<{ name: string; body: () => Buffer; contentType?: string; reason: RegExp }> = [
  { name: 'not JSON', body: () => Buffer.from('this is not json'), reason: /not JSON/ },
  {
    name: 'invalid UTF-8',
    body: () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
    reason: /not valid UTF-8/,
  },
  { name: 'JSON array', body: () => Buffer.from('[1,2,3]'), reason: /not an object \(array\)/ },
  {
    name: 'no type',
    body: () => Buffer.from('{"fields":{"params":{}}}'),
    reason: /no worker type/,
  },
  {
    name: 'bad type name',
    body: () => Buffer.from(workitem('../etc/passwd')),
    reason: /does not match/,
  },
  {
    name: 'type not a string',
    body: () => Buffer.from('{"worker_type": 12}'),
    reason: /number, not a string/,
  },
  { name: '1 MiB garbage', body: () => Buffer.alloc(1024 * 1024, 0x41), reason: /not JSON/ },
  {
    name: '10 000-deep nesting',
    body: () => Buffer.from(`${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`),
    reason: /no worker type/,
  },
  { name: 'empty body', body: () => Buffer.alloc(0), reason: /not JSON/ },
  {
    name: 'plain text, bad type',
    body: () => Buffer.from('-x hello'),
    contentType: 'text/plain',
    reason: /does not match/,
  },
];

describe('invalid input', () => {
  let url: string;
  let client: TestClient;
  let dispatcher: Program;
  let pool: Program;
  let config: ReturnType<typeof writeConfig>;

  beforeAll(async () => {
    url = await useVhost('invalid');
    config = writeConfig(testConfig(url, ['echo'], '[echo]\nworkers = 2\n'));
    dispatcher = startDispatcher(config.file);
    pool = startPool(config.file);
    await dispatcher.waitFor(/dispatcher consuming/);
    await pool.waitForRunning('echo');
    client = await TestClient.connect(url);
  });

  afterAll(async () => {
    await client?.close();
    await Promise.all([dispatcher?.stop(), pool?.stop()]);
    config?.cleanup();
  });

  it('parks 100 garbage inputs with their reasons and answers the 100 good ones in between', async () => {
    const expectedReason = new Map<string, RegExp>();
    for (let n = 0; n < 100; n++) {
      const garbage = GARBAGE[n % GARBAGE.length]!;
      const id = `bad-${n}`;
      expectedReason.set(id, garbage.reason);
      await client.publish('taskqueue', garbage.body(), {
        messageId: id,
        ...(garbage.contentType ? { contentType: garbage.contentType } : {}),
      });
      await client.publish('taskqueue', workitem('echo', { n }), { correlationId: `good-${n}` });
    }
    const results = await client.collect('results', 100, 120_000);
    expect(results).toHaveLength(100);
    expect(new Set(results.map((m) => m.properties.correlationId)).size).toBe(100);
    await expect
      .poll(() => client.messageCount('taskqueue.invalid'), { timeout: 30_000 })
      .toBe(100);
    const parked = await client.drain('taskqueue.invalid');
    expect(parked).toHaveLength(100);
    for (const message of parked) {
      const id = String(message.properties.messageId);
      const reason = String(message.properties.headers?.['x-taskqueue-error']);
      expect(reason, id).toMatch(expectedReason.get(id)!);
    }
    const big = parked.find((m) => m.content.length === 1024 * 1024);
    expect(big?.content.equals(Buffer.alloc(1024 * 1024, 0x41))).toBe(true); // unchanged
    expect(dispatcher.process.exitCode).toBeNull(); // it never stopped
    const warnings = dispatcher.logs().filter((l) => l.msg === 'invalid task parked');
    expect(warnings).toHaveLength(100);
    expect(await client.messageCount('taskqueue')).toBe(0);
  });

  it('handles what the fuzzer found: unencodable headers, a BOM, a result too deep to serialize', async () => {
    const good = workitem('echo', { n: 1 });
    // A timestamp header at 2^64 - 1: amqplib reads it as a number it cannot write again.
    await client.publish('taskqueue', good, {
      messageId: 'huge-timestamp',
      contentType: 'application/json',
      headers: { 'x-when': { '!': 'timestamp', value: 2n ** 64n - 1n } },
    });
    await client.publish(
      'taskqueue',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(good)]),
      {
        correlationId: 'bom',
      },
    );
    const deep = `{"fei":{"wfid":"w-deep"},"fields":{"params":{"worker_type":"echo"},"deep":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`;
    await client.publish('taskqueue', deep, { correlationId: 'deep' });

    const parked = await client.collect('taskqueue.invalid', 1, 30_000);
    expect(parked[0]!.properties.messageId).toBe('huge-timestamp');
    expect(parked[0]!.content.toString()).toBe(good);
    expect(parked[0]!.properties.contentType).toBe('application/json');
    expect(String(parked[0]!.properties.headers?.['x-taskqueue-error'])).toMatch(
      /cannot be forwarded/,
    );

    const results = await client.collect('results', 2, 30_000);
    const byId = new Map(
      results.map((m) => [m.properties.correlationId, JSON.parse(m.content.toString())]),
    );
    expect(byId.get('bom')?.fields.n).toBe(1);
    expect(byId.get('bom')?.error).toBeUndefined();
    // The error result keeps the top-level keys that can be written, and says why.
    expect(byId.get('deep')?.fei).toEqual({ wfid: 'w-deep' });
    expect(byId.get('deep')?.error).toMatch(/cannot be serialized as JSON/);
    const dead = await client.collect('worker_echo.dead', 1, 10_000);
    expect(dead[0]!.content.toString()).toBe(deep);
    // No requeue loop on the way.
    expect(dispatcher.logs().filter((l) => l.msg === 'forward failed; requeued')).toHaveLength(0);
    expect(pool.logs().filter((l) => l.msg === 'outcome refused; task requeued')).toHaveLength(0);
  });
});
