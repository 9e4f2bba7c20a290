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

const TASKS_PER_FORMAT = 1000;

describe('a task travels taskqueue → dispatcher → worker_<type> → plugin → result', () => {
  let url: string;
  let client: TestClient;
  let dispatcher: Program;
  let pool: Program;
  let config: ReturnType<typeof writeConfig>;

  beforeAll(async () => {
    url = await useVhost('end-to-end');
    config = writeConfig(
      testConfig(
        url,
        ['echo', 'throw', 'report'],
        '[echo]\nworkers = 2\nprefetch = 10\n[report]\nworkers = 1\nprefetch = 1\n',
      ),
    );
    dispatcher = startDispatcher(config.file);
    pool = startPool(config.file);
    await dispatcher.waitFor(/dispatcher consuming/);
    await pool.waitForRunning('echo');
    await pool.waitForRunning('throw');
    await pool.waitForRunning('report');
    client = await TestClient.connect(url);
  });

  afterAll(async () => {
    await client?.close();
    await Promise.all([dispatcher?.stop(), pool?.stop()]);
    config?.cleanup();
  });

  const formats: Array<[string, (n: number) => { body: string; contentType?: string }]> = [
    ['Ruote workitem', (n) => ({ body: workitem('echo', { n }), contentType: 'application/json' })],
    ['top-level worker_type', (n) => ({ body: JSON.stringify({ worker_type: 'echo', n }) })],
    ['text/plain', (n) => ({ body: `echo task number ${n}`, contentType: 'text/plain' })],
  ];

  for (const [name, make] of formats) {
    it(`answers ${TASKS_PER_FORMAT} tasks in the ${name} format, once each`, async () => {
      const sent = new Set<string>();
      const publishes: Promise<void>[] = [];
      for (let n = 0; n < TASKS_PER_FORMAT; n++) {
        const { body, contentType } = make(n);
        const id = `${name}-${n}`;
        sent.add(id);
        publishes.push(
          client.publish('taskqueue', body, {
            correlationId: id,
            ...(contentType ? { contentType } : {}),
          }),
        );
      }
      await Promise.all(publishes);
      const results = await client.collect('results', TASKS_PER_FORMAT, 120_000);
      const ids = results.map((m) => String(m.properties.correlationId));
      expect(new Set(ids).size).toBe(ids.length); // no duplicates
      expect(new Set(ids)).toEqual(sent);
      for (const result of results) {
        const headers = result.properties.headers ?? {};
        expect(headers['x-worker-type']).toBe('echo');
        expect(typeof headers['x-worker-host']).toBe('string');
        expect(headers['x-attempts']).toBe(1);
        expect(typeof headers['x-duration-ms']).toBe('number');
        expect(result.properties.contentType).toBe('application/json');
        expect(result.properties.deliveryMode).toBe(2);
        expect(() => JSON.parse(result.content.toString())).not.toThrow();
      }
      const text = results.find((m) => m.properties.correlationId === `${name}-7`)!;
      const body = JSON.parse(text.content.toString());
      if (name === 'text/plain')
        expect(body.fields).toEqual({ params: { worker_type: 'echo' }, text: 'task number 7' });
      else expect(JSON.stringify(body)).toBe(make(7).body);
      for (const queue of ['taskqueue', 'worker_echo', 'results', 'taskqueue.invalid']) {
        expect(await client.messageCount(queue), queue).toBe(0);
      }
    });
  }

  it('turns a throwing plugin into an error result with error and trace, and acks the task', async () => {
    await client.publish('taskqueue', workitem('throw', { n: 42 }), { messageId: 'throw-1' });
    const [result] = await client.collect('results', 1, 30_000);
    expect(result).toBeDefined();
    expect(result!.properties.correlationId).toBe('throw-1'); // message_id when no correlation_id
    const body = JSON.parse(result!.content.toString());
    expect(body.error).toBe('boom on 42');
    expect(body.trace).toMatch(/Error: boom on 42\n\s+at /);
    expect(body.fields.n).toBe(42);
    expect(await client.messageCount('worker_throw')).toBe(0);
  });

  it("lets a plugin's own reportResults decide what is published, and acks every task", async () => {
    // One child taking one task at a time: the silent task is done before the next one starts.
    await client.publish('taskqueue', workitem('report', { n: 1, silent: true }), {
      correlationId: 'report-silent',
    });
    for (const n of [2, 3]) {
      await client.publish('taskqueue', workitem('report', { n }), {
        correlationId: `report-${n}`,
      });
    }
    const results = await client.collect('results', 2, 30_000);
    expect(results.map((m) => m.properties.correlationId).sort()).toEqual(['report-2', 'report-3']);
    for (const result of results) {
      expect(JSON.parse(result.content.toString()).fields.reported_by).toBe('report');
    }
    expect(await client.messageCount('results')).toBe(0);
    await expect.poll(() => client.messageCount('worker_report'), { timeout: 10_000 }).toBe(0);
  });

  it('sends the result to reply_to instead of the results queue', async () => {
    const { queue } = await client.channel.assertQueue('', { exclusive: true });
    await client.publish('taskqueue', workitem('echo', { rpc: true }), {
      correlationId: 'rpc-1',
      replyTo: queue,
    });
    const [reply] = await client.collect(queue, 1, 30_000);
    expect(reply?.properties.correlationId).toBe('rpc-1');
    expect(JSON.parse(reply!.content.toString()).fields.rpc).toBe(true);
    expect(await client.messageCount('results')).toBe(0);
  });
});
