import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_EXCHANGE, workerQueue } from '../../src/common/amqp/queues.js';
import { EXPIRES_AT_HEADER } from '../../src/common/amqp/wire.js';
import { parseEvent, type WireEvent } from '../../src/common/tracking/index.js';
import { workitem } from '../support/amqp-client.js';
import { type Program, startDispatcher, startPool, testConfig } from '../support/programs.js';
import { useTestScope } from '../support/scope.js';

/** The fixture that leaves `<dir>/<taskId>.ran` for every task it runs. */
const TYPE = 'cancellable';

describe('expiry: a task past its deadline is answered, never run', () => {
  const scope = useTestScope('expiry');
  let runs: string;

  beforeAll(async () => {
    await scope.client.declare('taskqueue');
    await scope.client.declare('results');
    // Children run as another user when the tests run as root: they must be able to write here.
    runs = mkdtempSync(join(tmpdir(), 'tq-expiry-'));
    chmodSync(runs, 0o777);
  });
  afterAll(() => {
    rmSync(runs, { recursive: true, force: true });
  });

  function program(start: (file: string) => Program): Program {
    return scope.program(
      testConfig(scope.url, [TYPE], `[tracking]\nenabled = yes\n\n[${TYPE}]\nworkers = 2\n`),
      start,
    );
  }

  const ran = (id: string) => existsSync(join(runs, `${id}.ran`));

  it('answers TQ_ERR_TASK_EXPIRED for a deadline past and an AMQP expiration run out while no pool ran; runs one with a future deadline', async () => {
    const events = 'test.expiry.events';
    await scope.client.channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
    await scope.client.channel.assertQueue(events, { durable: true });
    await scope.client.channel.bindQueue(events, EVENTS_EXCHANGE, 'task.#');
    // Consuming before the sends: the `ttl` task's 1.5 s must not run out on the input queue
    // while the dispatcher is still starting (a slow start under load dropped it there).
    await program(startDispatcher).waitFor(/dispatcher consuming/);
    const now = Date.now();
    const past = new Date(now - 60_000).toISOString();
    const send = (id: string, options: Record<string, unknown>) =>
      scope.client.publish('taskqueue', workitem(TYPE, { dir: runs }), {
        correlationId: id,
        ...options,
      });
    await send('past', { headers: { [EXPIRES_AT_HEADER]: past } });
    await send('ttl', { expiration: '1500' });
    await send('future', {
      headers: { [EXPIRES_AT_HEADER]: new Date(now + 600_000).toISOString() },
    });
    // All three wait on worker_<type>: the dispatcher took the expiration off, so the broker
    // did not drop the `ttl` task when it ran out; it is there, answered when a pool takes it.
    await expect
      .poll(() => scope.client.messageCount(workerQueue(TYPE)), { timeout: 90_000 })
      .toBe(3);
    await sleep(Math.max(0, now + 2500 - Date.now()));
    expect(await scope.client.messageCount(workerQueue(TYPE))).toBe(3);

    const pool = program(startPool);
    await pool.waitForRunning(TYPE, 2);
    const results = await scope.client.collect('results', 3, 60_000);
    const byId = new Map(
      results.map((m) => [m.properties.correlationId as string, JSON.parse(m.content.toString())]),
    );
    expect([...byId.keys()].sort()).toEqual(['future', 'past', 'ttl']);
    expect(byId.get('past').error).toBe(
      `task expired at ${past} before it started (TQ_ERR_TASK_EXPIRED): not run`,
    );
    expect(byId.get('ttl').error).toMatch(
      /^task expired at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z before it started \(TQ_ERR_TASK_EXPIRED\): not run$/,
    );
    // The error result is the input plus the error, as a failure's (SPEC §1 *Failure*).
    expect(byId.get('past').fields.dir).toBe(runs);
    expect(ran('past')).toBe(false);
    expect(ran('ttl')).toBe(false);
    expect(ran('future')).toBe(true);
    expect(byId.get('future').error).toBeUndefined();
    expect(byId.get('future').fields.ran).toBe(true);

    // Events: received with its deadline; the finals `expired` with the code, no `started`.
    await expect
      .poll(async () => (await scope.client.messageCount(events)) >= 3 + 3 + 1, { timeout: 90_000 })
      .toBe(true);
    const seen: WireEvent[] = (await scope.client.drain(events)).map((m) => parseEvent(m.content));
    for (const id of ['past', 'ttl']) {
      const of = seen.filter((e) => e.taskId === id);
      expect(of.map((e) => e.event).sort(), id).toEqual(['expired', 'received']);
      const expired = of.find((e) => e.event === 'expired');
      expect(expired).toMatchObject({ errorCode: 'TQ_ERR_TASK_EXPIRED', attempt: 1 });
      expect(expired?.result).toMatchObject({ error: byId.get(id).error });
      expect(of.find((e) => e.event === 'received')?.expiresAt, id).toBeDefined();
    }
    const ttlReceived = seen.find((e) => e.taskId === 'ttl' && e.event === 'received');
    const deadline = Date.parse(ttlReceived?.expiresAt as string);
    expect(deadline).toBeGreaterThanOrEqual(now + 1500);
    expect(byId.get('ttl').error).toContain(ttlReceived?.expiresAt);
    expect(seen.filter((e) => e.taskId === 'future').map((e) => e.event)).toContain('succeeded');
  });
});
