import type { ConsumeMessage } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { workerQueueDeclaration } from '../../src/common/amqp/queues.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import { type Program, startPool, testConfig, writeConfig } from '../support/programs.js';

/**
 * What a foreign client can publish straight to `worker_<type>`, past the dispatcher's checks:
 * none of it may wedge a child, loop forever, or send a result where the system reads tasks.
 */
interface ResultBody {
  fields: Record<string, unknown>;
  error?: string;
}
const body = (m: ConsumeMessage) => JSON.parse(m.content.toString()) as ResultBody;
const header = (m: ConsumeMessage, name: string) => m.properties.headers?.[name];
const byId = (messages: ConsumeMessage[], id: string) =>
  messages.find((m) => m.properties.correlationId === id);

/** A header value amqplib reads from the wire but cannot write again (as the fuzzer found). */
const UNENCODABLE = { '!': 'timestamp', value: 2n ** 64n - 1n };

describe('a child facing hostile input on worker_<type>', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A vhost of its own, a client, and a running pool of `type` with `section`'s keys. */
  async function start(label: string, type: string, section: string) {
    const url = await useVhost(`hostile-${label}`);
    const client = await TestClient.connect(url);
    const config = writeConfig(testConfig(url, [type], `[${type}]\n${section}\n`));
    const pool: Program = startPool(config.file);
    cleanups.push(async () => {
      await pool.stop();
      config.cleanup();
      await client.close();
    });
    await pool.waitFor(/"to":"running"/);
    const { name, options } = workerQueueDeclaration(type, 'classic', undefined);
    await client.channel.assertQueue(name, options);
    return { client, pool, queue: name };
  }

  it('parks a body above max_body_size unparsed, with an error result, and serves the next task', async () => {
    const { client, pool, queue } = await start(
      'size',
      'echo',
      'workers = 1\nmax_body_size = 1000',
    );
    const big = workitem('echo', { pad: 'x'.repeat(2000) });
    await client.publish(queue, big, { correlationId: 'big-1' });
    await client.publish(queue, workitem('echo', { n: 1 }), { correlationId: 'small-1' });
    const results = await client.collect('results', 2, 30_000);
    expect(body(byId(results, 'big-1')!).error).toMatch(/max_body_size/);
    expect(body(byId(results, 'small-1')!).fields.n).toBe(1);
    expect(body(byId(results, 'small-1')!).error).toBeUndefined();
    const [dead] = await client.collect('worker_echo.dead', 1, 10_000);
    expect(dead!.properties.correlationId).toBe('big-1');
    expect(header(dead!, 'x-taskqueue-error-code')).toBe('TQ_ERR_TASK_TOO_LARGE');
    expect(dead!.content.toString()).toBe(big);
    expect(pool.logs().some((l) => l.code === 'TQ_ERR_TASK_TOO_LARGE')).toBe(true);
  });

  it('parks a body that is not valid UTF-8, with an error result, instead of handing U+FFFD to the plugin', async () => {
    const { client, queue } = await start('utf8', 'echo', 'workers = 1');
    const bad = Buffer.concat([
      Buffer.from('{"fields":{"params":{"worker_type":"echo"},"t":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}}'),
    ]);
    await client.publish(queue, bad, { correlationId: 'utf8-1', contentType: 'application/json' });
    const [result] = await client.collect('results', 1, 30_000);
    expect(result!.properties.correlationId).toBe('utf8-1');
    expect(body(result!).error).toMatch(/UTF-8/);
    const [dead] = await client.collect('worker_echo.dead', 1, 10_000);
    expect(header(dead!, 'x-taskqueue-error-code')).toBe('TQ_ERR_TASK_NOT_UTF8');
    expect(dead!.content.equals(bad)).toBe(true);
  });

  it('refuses a reply_to naming a queue of the system: the result takes the results route, with the reason', async () => {
    const { client, pool, queue } = await start('reply-to', 'echo', 'workers = 1');
    await client.declare('taskqueue');
    await client.declare('worker_other.dead');
    const refused = ['taskqueue', 'worker_other.dead', 'amq.rabbitmq.reply-to.not an address'];
    for (const [n, replyTo] of refused.entries())
      await client.publish(queue, workitem('echo', { n }), { correlationId: `rt-${n}`, replyTo });
    await client.declare('answers');
    await client.publish(queue, workitem('echo', { n: 9 }), {
      correlationId: 'rt-ok',
      replyTo: 'answers',
    });
    const results = await client.collect('results', refused.length, 30_000);
    expect(results.map((m) => m.properties.correlationId).sort()).toEqual(['rt-0', 'rt-1', 'rt-2']);
    for (const result of results)
      expect(String(header(result, 'x-taskqueue-reply-to-refused'))).toMatch(/refused/);
    const [answer] = await client.collect('answers', 1, 10_000);
    expect(answer!.properties.correlationId).toBe('rt-ok');
    expect(await client.messageCount('taskqueue')).toBe(0);
    expect(await client.messageCount('worker_other.dead')).toBe(0);
    const warnings = pool.logs().filter((l) => l.code === 'TQ_ERR_REPLY_TO_REFUSED');
    expect(warnings.map((l) => l.replyTo).sort()).toEqual([...refused].sort());
  });

  it('parks an unreadable task whose headers cannot be encoded again, instead of requeuing it forever', async () => {
    const { client, pool, queue } = await start('encode-park', 'echo', 'workers = 1');
    await client.publish(queue, 'not json', {
      correlationId: 'enc-park',
      headers: { 'x-when': UNENCODABLE, 'x-fine': 'kept?' },
    });
    const [dead] = await client.collect('worker_echo.dead', 1, 15_000);
    expect(dead?.properties.correlationId).toBe('enc-park');
    expect(dead!.content.toString()).toBe('not json');
    expect(header(dead!, 'x-taskqueue-error-code')).toBe('TQ_ERR_TASK_UNREADABLE');
    expect(String(header(dead!, 'x-taskqueue-dropped-headers'))).toContain('"x-when"');
    const [result] = await client.collect('results', 1, 10_000);
    expect(result!.properties.correlationId).toBe('enc-park');
    expect(body(result!).error).toMatch(/unreadable task/);
    expect(pool.logs().filter((l) => l.msg === 'outcome refused; task requeued')).toEqual([]);
  });

  it('retries a failing task whose headers cannot be encoded again, and reports its last failure', async () => {
    const section = 'workers = 1\nmax_attempts = 2\nretry_delay = 0.1';
    const { client, pool, queue } = await start('encode-retry', 'throw', section);
    await client.publish(queue, workitem('throw', { n: 7 }), {
      correlationId: 'enc-retry',
      headers: { 'x-when': UNENCODABLE },
    });
    const [result] = await client.collect('results', 1, 20_000);
    expect(result?.properties.correlationId).toBe('enc-retry');
    expect(body(result!).error).toBe('boom on 7');
    expect(header(result!, 'x-attempts')).toBe(2);
    expect(pool.logs().filter((l) => l.msg === 'outcome refused; task requeued')).toEqual([]);
  });

  it('consumes again when the broker cancels its consumer (the queue was deleted)', async () => {
    const { client, pool, queue } = await start('cancel', 'echo', 'workers = 1');
    await client.channel.deleteQueue(queue);
    const { options } = workerQueueDeclaration('echo', 'classic', undefined);
    await client.channel.assertQueue(queue, options);
    await client.publish(queue, workitem('echo', { n: 3 }), { correlationId: 'after-cancel' });
    const [result] = await client.collect('results', 1, 20_000);
    expect(result?.properties.correlationId).toBe('after-cancel');
    expect(pool.logs().some((l) => l.code === 'TQ_ERR_AMQP_CONSUMER_CANCELLED')).toBe(true);
  });
});
