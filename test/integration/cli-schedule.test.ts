import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPIRES_AT_HEADER, NOT_BEFORE_HEADER } from '../../src/common/amqp/wire.js';
import { TestClient } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import { ROOT, runToEnd, testConfig, writeConfig } from '../support/programs.js';

/**
 * `taskqueue submit --priority/--delay/--at/--ttl` (issue 30): the real program publishes to
 * the input queue with the headers and the priority property (`--via-dispatcher`: the direct
 * path puts a delayed task into the delay ladder, direct-path.test.ts); no dispatcher runs, so
 * the message is read back from the input queue as the dispatcher would get it. Refusals exit 64
 * before anything is published.
 */

const CLI = join(ROOT, 'dist/cli/main.js');
const INPUT = 'taskqueue';

describe('taskqueue submit with a schedule', () => {
  let client: TestClient;
  let config: ReturnType<typeof writeConfig>;
  const taskqueue = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runToEnd([process.execPath, CLI, ...args, '--via-dispatcher', '-c', config.file], {
      env,
      input: '',
    });

  beforeAll(async () => {
    const url = await useVhost('cli-schedule');
    config = writeConfig(testConfig(url, ['echo']));
    client = await TestClient.connect(url);
  });

  afterAll(async () => {
    await client?.close();
    config?.cleanup();
  });

  it('publishes --delay, --ttl and --priority as the headers (absolute) and the property', async () => {
    const before = Date.now();
    const result = await taskqueue([
      'submit',
      'echo',
      '{"n":1}',
      '--delay',
      '10m',
      '--ttl',
      '1h',
      '--priority',
      '5',
    ]);
    const after = Date.now();
    expect(result.code).toBe(0);
    const id = result.stdout.trim();
    // stdout stays the id alone; the due time is said on stderr.
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.stderr).toMatch(
      new RegExp(
        `taskqueue: task ${id} waits until \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z \\(in 10m\\)`,
      ),
    );
    const [message, ...rest] = await client.drain(INPUT);
    expect(rest).toEqual([]);
    expect(message!.properties.messageId).toBe(id);
    expect(message!.properties.priority).toBe(5);
    const headers = message!.properties.headers ?? {};
    const notBefore = Date.parse(String(headers[NOT_BEFORE_HEADER]));
    const expiresAt = Date.parse(String(headers[EXPIRES_AT_HEADER]));
    expect(notBefore).toBeGreaterThanOrEqual(before + 600_000);
    expect(notBefore).toBeLessThanOrEqual(after + 600_000);
    expect(expiresAt - notBefore).toBe(3_600_000);
    // ISO with ms, as the contract says: what toISOString writes.
    expect(headers[NOT_BEFORE_HEADER]).toBe(new Date(notBefore).toISOString());
  });

  it('publishes --at in the local time zone of TZ', async () => {
    const due = new Date(Date.now() + 2 * 3_600_000);
    due.setUTCSeconds(0, 0);
    // 2 h ahead in Asia/Tokyo (UTC+9, no summer time) written without a zone.
    const tokyo = new Date(due.getTime() + 9 * 3_600_000)
      .toISOString()
      .slice(0, 16)
      .replace('T', ' ');
    const result = await taskqueue(['submit', 'echo', '--at', tokyo], { TZ: 'Asia/Tokyo' });
    expect(result.code).toBe(0);
    const [message] = await client.drain(INPUT);
    expect(message!.properties.headers?.[NOT_BEFORE_HEADER]).toBe(due.toISOString());
    expect(message!.properties.priority).toBeUndefined();
  });

  it('publishes a task without a schedule as before: no headers of issue 30, no priority', async () => {
    const result = await taskqueue(['submit', 'echo']);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/taskqueue: task \S+ waits until/);
    const [message] = await client.drain(INPUT);
    expect(message!.properties.headers?.[NOT_BEFORE_HEADER]).toBeUndefined();
    expect(message!.properties.headers?.[EXPIRES_AT_HEADER]).toBeUndefined();
  });

  it('refuses bad schedules with TQ_ERR_CLI_USAGE (exit 64) and publishes nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['--delay', '10m', '--at', '2030-01-01T00:00:00Z'], /--delay and --at/],
      [['--delay', '8d'], /--delay: a task can wait at most 7 days/],
      [['--delay', 'soon'], /--delay "soon": not a duration/],
      [['--at', 'noon'], /--at "noon": not a time/],
      [['--priority', '256'], /--priority: priority must be a whole number 0 to 255/],
      [['--ttl', '0'], /--ttl: the ttl must be more than 0/],
    ];
    for (const [args, message] of cases) {
      const result = await taskqueue(['submit', 'echo', ...args]);
      expect(result.code, args.join(' ')).toBe(64);
      expect(result.stderr, args.join(' ')).toContain('TQ_ERR_CLI_USAGE');
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
    expect(await client.drain(INPUT)).toEqual([]);
  });

  it('shows every option in --help, and what --at takes and in which time zone', async () => {
    const result = await taskqueue(['submit', '--help']);
    expect(result.code).toBe(0);
    for (const option of ['--priority', '--delay', '--at', '--ttl']) {
      expect(result.stdout).toContain(option);
    }
    expect(result.stdout).toMatch(/local time zone/);
    expect(result.stdout).toMatch(/ISO 8601/);
  });
});
