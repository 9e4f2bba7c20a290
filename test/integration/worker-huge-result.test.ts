import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerQueueDeclaration } from '../../src/common/amqp/queues.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import { brokerInfo, setMaxMessageSize, useVhost } from '../support/broker.js';
import { startPool, testConfig, writeConfig } from '../support/programs.js';

const MiB = 1024 * 1024;
/** RabbitMQ 3.x's default max_message_size, put back after the test. */
const DEFAULT_MAX_MESSAGE_SIZE = 128 * MiB;
/** Above what other test files publish (1 MiB), so that they do not notice. */
const TEST_MAX_MESSAGE_SIZE = 2 * MiB;

const body = (m: ConsumeMessage) =>
  JSON.parse(m.content.toString()) as { fields: Record<string, unknown>; error?: string };
const runsIn = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

// max_message_size is a setting of the whole broker: only a private node of this run is changed.
describe.runIf(brokerInfo().kind === 'node')('a result larger than the broker takes', () => {
  beforeAll(async () => {
    await setMaxMessageSize(TEST_MAX_MESSAGE_SIZE);
  });
  afterAll(async () => {
    await setMaxMessageSize(DEFAULT_MAX_MESSAGE_SIZE);
  });

  it('is an error result, its input parked on .dead, the plugin run once, and the type still served', async () => {
    const url = await useVhost('huge-result');
    const client = await TestClient.connect(url);
    const config = writeConfig('');
    const runsFile = join(config.dir, 'runs');
    // The children may run as another user (the pool as root): they must be able to write it.
    writeFileSync(runsFile, '');
    chmodSync(runsFile, 0o666);
    chmodSync(config.dir, 0o755);
    const section = `[huge]\nworkers = 1\nruns_file = ${runsFile}\n`;
    writeFileSync(config.file, testConfig(url, ['huge'], section));
    const pool = startPool(config.file);
    try {
      await pool.waitFor(/"to":"running"/);
      const { name, options } = workerQueueDeclaration('huge', 'classic', undefined);
      await client.channel.assertQueue(name, options);
      const input = workitem('huge', { bytes: 3 * MiB });
      await client.publish(name, input, { correlationId: 'huge-1' });
      const [failed] = await client.collect('results', 1, 30_000);
      expect(failed?.properties.correlationId).toBe('huge-1');
      expect(body(failed!).error).toMatch(/refused/);
      expect(body(failed!).fields.blob).toBeUndefined();
      const [dead] = await client.collect('worker_huge.dead', 1, 10_000);
      expect(dead!.properties.correlationId).toBe('huge-1');
      expect(dead!.properties.headers?.['x-taskqueue-error-code']).toBe('TQ_ERR_RESULT_TOO_LARGE');
      expect(dead!.content.toString()).toBe(input);
      expect(runsIn(runsFile)).toEqual(['huge-1']);

      await client.publish(name, workitem('huge', { bytes: 10 }), { correlationId: 'small-1' });
      const [ok] = await client.collect('results', 1, 30_000);
      expect(ok?.properties.correlationId).toBe('small-1');
      expect(body(ok!).error).toBeUndefined();
      expect(runsIn(runsFile)).toEqual(['huge-1', 'small-1']);

      // The child remembers the size the broker refused: the next such result is not sent at all.
      await client.publish(name, workitem('huge', { bytes: 4 * MiB }), { correlationId: 'huge-2' });
      const [second] = await client.collect('results', 1, 30_000);
      expect(second?.properties.correlationId).toBe('huge-2');
      expect(body(second!).error).toMatch(/too large/);
      const [dead2] = await client.collect('worker_huge.dead', 1, 10_000);
      expect(dead2!.properties.headers?.['x-taskqueue-error-code']).toBe('TQ_ERR_RESULT_TOO_LARGE');
      expect(runsIn(runsFile)).toEqual(['huge-1', 'small-1', 'huge-2']);
      const losses = pool.logs().filter((l) => l.msg === 'broker connection lost; reconnecting');
      expect(losses).toHaveLength(1);
    } finally {
      await pool.stop();
      await client.close();
      config.cleanup();
    }
  });
});
