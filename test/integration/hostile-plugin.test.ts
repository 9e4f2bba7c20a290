import type { ConsumeMessage } from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import { childPids, isAlive } from '../support/processes.js';
import { type Program, startPool, testConfig, writeConfig } from '../support/programs.js';

/**
 * A plugin runs as another user and is not trusted: whatever it does to the two descriptors it
 * shares with the pool (the channel, fd 3; the held-tasks file, fd 4), the pool survives, ends
 * that child alone with a log line naming it, replaces it, and the other groups carry on.
 */
describe('hostile plugins', () => {
  let url: string;
  let client: TestClient;
  const cleanups: Array<() => Promise<void> | void> = [];
  /** Results seen so far, by correlation id (a collect may bring more than the one awaited). */
  const results = new Map<string, ConsumeMessage>();

  beforeAll(async () => {
    url = await useVhost('hostile');
    client = await TestClient.connect(url);
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  afterAll(async () => {
    await client?.close();
  });

  function pool(enabled: string[], sections: string): Program {
    const config = writeConfig(testConfig(url, enabled, sections));
    const program = startPool(config.file);
    cleanups.push(async () => {
      await program.stop();
      config.cleanup();
    });
    return program;
  }

  async function publish(type: string, id: string, fields: Record<string, unknown> = {}) {
    await client.declare(`worker_${type}`);
    await client.publish(`worker_${type}`, workitem(type, fields), { correlationId: id });
  }

  /** The result published for task `id`, consuming the results queue until it comes. */
  async function resultOf(id: string, timeoutMs = 30_000): Promise<ConsumeMessage | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (!results.has(id) && Date.now() < deadline) {
      for (const message of await client.collect('results', 1, deadline - Date.now()))
        results.set(String(message.properties.correlationId), message);
    }
    return results.get(id);
  }

  const runningPids = (program: Program, group: string) =>
    program
      .logs()
      .filter((l) => l.msg === 'child state' && l.group === group && l.to === 'running')
      .map((l) => Number(l.childPid));

  /**
   * The pool is alive, killed the child named in the line with `code`, started another one in
   * its group, and both groups answer tasks.
   */
  async function expectHostileChildReplaced(
    program: Program,
    group: string,
    code: string,
    label: string,
  ): Promise<void> {
    const line = JSON.parse(await program.waitFor(new RegExp(`"code":"${code}"`), 30_000));
    expect(line.group).toBe(group);
    const hostile = Number(line.childPid);
    expect(runningPids(program, group)).toContain(hostile);
    await expect.poll(() => isAlive(hostile), { timeout: 10_000 }).toBe(false);
    // Replaced: another child of the group runs, and answers a harmless task.
    await expect
      .poll(() => runningPids(program, group).filter((pid) => pid !== hostile).length, {
        timeout: 30_000,
      })
      .toBeGreaterThan(0);
    await publish(group, `${label}-after`);
    const after = await resultOf(`${label}-after`);
    expect(JSON.parse(after!.content.toString()).fields.pid).not.toBe(hostile);
    // The other group never noticed.
    await publish('pid', `${label}-good`);
    expect(await resultOf(`${label}-good`)).toBeDefined();
    expect(program.process.exitCode).toBeNull();
    expect(program.process.signalCode).toBeNull();
    expect(childPids(program.pid).length).toBeGreaterThanOrEqual(2);
  }

  it.each([
    ['null', 'null\n'],
    ['lost-without-keys', '{"kind":"lost"}\n'],
    ['unknown-kind', '{"kind":"shutdown-everything"}\n'],
    ['ask-with-wrong-types', '{"kind":"ask","id":"1","key":{"a":1}}\n'],
    ['lost-with-huge-key', `{"kind":"lost","keys":["${'k'.repeat(100_000)}"],"cause":"x"}\n`],
    ['ask-flood', '{"kind":"ask","id":1,"key":"pid\\u0000x"}\n'.repeat(100)],
    // Metrics: counts a child cannot have (task-stats.ts isStatsMessage).
    [
      'stats-huge-count',
      `{"kind":"stats","outcomes":[1e15,0,0,0,0,0,0,0],"run":${JSON.stringify(Array(16).fill(0))},"runSum":0,"queued":${JSON.stringify(Array(11).fill(0))},"queuedSum":0}\n`,
    ],
    [
      'stats-wrong-length',
      '{"kind":"stats","outcomes":[1],"run":[],"runSum":0,"queued":[],"queuedSum":0}\n',
    ],
  ])(
    'a child writing a malformed message (%s) on its channel is replaced, the pool carries on',
    async (label, line) => {
      const program = pool(
        ['garble-channel', 'pid'],
        '[garble-channel]\nworkers = 1\nmax_crashes = 1\n[pid]\nworkers = 1\n',
      );
      await program.waitForRunning('garble-channel');
      await program.waitForRunning('pid');
      await publish('garble-channel', `${label}-attack`, { line });
      await expectHostileChildReplaced(program, 'garble-channel', 'TQ_ERR_CHILD_MESSAGE', label);
    },
  );

  it.each([
    ['5e9', 5e9],
    ['1e9', 1e9],
  ])(
    'a child growing its held-tasks file to %s bytes is replaced, the pool carries on',
    async (label, size) => {
      const program = pool(
        ['grow-held', 'pid'],
        '[grow-held]\nworkers = 1\nmax_crashes = 1\ntimeout = 30\n[pid]\nworkers = 1\n',
      );
      await program.waitForRunning('grow-held');
      await program.waitForRunning('pid');
      await publish('grow-held', `grow-${label}-attack`, { size, hold_ms: 10_000 });
      await expectHostileChildReplaced(
        program,
        'grow-held',
        'TQ_ERR_CHILD_HELD_TASKS',
        `grow-${label}`,
      );
    },
  );
});
