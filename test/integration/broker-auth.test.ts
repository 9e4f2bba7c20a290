import { execFile } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { worstCaseConnectMs } from '../../src/common/amqp/connect-options.js';
import { START_MARGIN_MS } from '../../src/common/daemon.js';
import { useUser, useVhost } from '../support/broker.js';
import {
  Program,
  ROOT,
  startDispatcher,
  startPool,
  testConfig,
  writeConfig,
} from '../support/programs.js';

/**
 * A broker that refuses the user, password or vhost is a configuration error: the programs stop
 * at once with exit 78 and TQ_ERR_AMQP_ACCESS_REFUSED, naming user and vhost but never the
 * password, instead of retrying connect_retries times and exiting 69 (which systemd restarts).
 */

const WRONG_PASSWORD = 'Wr0ng-S3cret-pw';
const USER_PASSWORD = 'R1ght-S3cret-pw';
/** With 30 retries a retrying program would need minutes; a refusal must end in seconds. */
const PROMPTLY_MS = 20_000;

let goodUrl: string;
let noPermissionUser: string;
const files: Array<{ cleanup: () => void }> = [];

beforeAll(async () => {
  goodUrl = await useVhost('auth');
  noPermissionUser = await useUser('noperm', USER_PASSWORD);
});

afterAll(() => {
  for (const file of files) file.cleanup();
});

/** `goodUrl` with other credentials or another vhost. */
function urlWith(change: { user?: string; password?: string; vhost?: string }): string {
  const url = new URL(goodUrl);
  if (change.user !== undefined) url.username = encodeURIComponent(change.user);
  if (change.password !== undefined) url.password = encodeURIComponent(change.password);
  if (change.vhost !== undefined) url.pathname = `/${encodeURIComponent(change.vhost)}`;
  return url.toString();
}

function configFor(url: string): string {
  // connect_retries = 30 as in production: only a refusal that is not retried ends promptly.
  const file = writeConfig(
    testConfig(url, ['echo']).replace(/connect_retries = \d+/, 'connect_retries = 30'),
  );
  files.push(file);
  return file.file;
}

/** The exit of `program`, or a failure once it has run for `ms` (it is then stopped). */
async function exitWithin(program: Program, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      void program.stop(5_000);
      reject(new Error(`${program.name} still running after ${ms} ms\n${program.tail()}`));
    }, ms);
  });
  try {
    return await Promise.race([program.exited(), late]);
  } finally {
    clearTimeout(timer);
  }
}

function refusalLine(program: Program): Record<string, unknown> {
  const line = program.logs().find((l) => l.code === 'TQ_ERR_AMQP_ACCESS_REFUSED');
  expect(line, program.tail()).toBeDefined();
  return line!;
}

function expectNoPassword(program: Program, password: string): void {
  expect(program.lines.filter((line) => line.includes(password))).toEqual([]);
}

describe('the dispatcher, refused by the broker, exits 78 at once', () => {
  it('on a wrong password, naming the user', async () => {
    const dispatcher = startDispatcher(configFor(urlWith({ password: WRONG_PASSWORD })));
    const { code } = await exitWithin(dispatcher, PROMPTLY_MS);
    expect(code).toBe(78);
    expect(String(refusalLine(dispatcher).msg)).toContain('user "guest"');
    expect(dispatcher.logs().filter((l) => l.msg === 'broker connection failed')).toEqual([]);
    expectNoPassword(dispatcher, WRONG_PASSWORD);
  });

  it('on a vhost that does not exist, naming it', async () => {
    const vhost = `tq-test-no-such-vhost-${process.pid}`;
    const dispatcher = startDispatcher(configFor(urlWith({ vhost })));
    const { code } = await exitWithin(dispatcher, PROMPTLY_MS);
    expect(code).toBe(78);
    const msg = String(refusalLine(dispatcher).msg);
    expect(msg).toContain(`vhost "${vhost}"`);
    expect(msg).toContain('user "guest"');
    expectNoPassword(dispatcher, ':guest@');
  });

  it('on a vhost the user has no permission on, naming both', async () => {
    const url = urlWith({ user: noPermissionUser, password: USER_PASSWORD });
    const dispatcher = startDispatcher(configFor(url));
    const { code } = await exitWithin(dispatcher, PROMPTLY_MS);
    expect(code).toBe(78);
    const msg = String(refusalLine(dispatcher).msg);
    expect(msg).toContain(`user "${noPermissionUser}"`);
    expect(msg).toContain(`vhost "${decodeURIComponent(new URL(url).pathname.slice(1))}"`);
    expectNoPassword(dispatcher, USER_PASSWORD);
  });
});

describe('the worker pool, refused by the broker', () => {
  it('exits 78 at once, before it forks a child', async () => {
    const pool = startPool(configFor(urlWith({ password: WRONG_PASSWORD })));
    const { code } = await exitWithin(pool, PROMPTLY_MS);
    expect(code).toBe(78);
    refusalLine(pool);
    expect(pool.logs().filter((l) => l.msg === 'child state')).toEqual([]);
    expectNoPassword(pool, WRONG_PASSWORD);
  });
});

describe('the CLI, refused by the broker', () => {
  it('taskqueue submit exits 78 at once with the code', async () => {
    const started = Date.now();
    const result = await promisify(execFile)(
      process.execPath,
      [
        join(ROOT, 'dist/cli/main.js'),
        'submit',
        'echo',
        '{}',
        '-c',
        configFor(urlWith({ password: WRONG_PASSWORD })),
      ],
      { env: { ...process.env, TASKQUEUE_AMQP_URL: '' }, timeout: 60_000 },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
    );
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('TQ_ERR_AMQP_ACCESS_REFUSED');
    expect(result.stderr).not.toContain(WRONG_PASSWORD);
    expect(Date.now() - started).toBeLessThan(PROMPTLY_MS);
  });
});

describe('systemd start timeout', () => {
  it('the dispatcher asks systemd to wait out its connect retries before READY=1', async () => {
    // A stand-in for systemd-notify that writes down what the daemon tells systemd.
    const dir = writeConfig('');
    files.push(dir);
    const notifyLog = join(dir.dir, 'notify.log');
    const fake = join(dir.dir, 'systemd-notify');
    writeFileSync(fake, `#!/bin/sh\necho "$*" >> '${notifyLog}'\n`);
    chmodSync(fake, 0o755);
    const dispatcher = new Program('dispatcher', ['-c', configFor(goodUrl)], {
      PATH: `${dir.dir}:${process.env.PATH}`,
      NOTIFY_SOCKET: join(dir.dir, 'notify.sock'),
    });
    try {
      await dispatcher.waitFor(/"msg":"ready"/);
      const deadline = Date.now() + 10_000;
      const said = () => (existsSync(notifyLog) ? readFileSync(notifyLog, 'utf8') : '');
      while (!said().includes('READY=1') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const lines = said().trim().split('\n');
      const extend = lines.findIndex((l) => l.includes('EXTEND_TIMEOUT_USEC='));
      const ready = lines.findIndex((l) => l.includes('READY=1'));
      expect(extend, said()).toBeGreaterThanOrEqual(0);
      expect(extend).toBeLessThan(ready);
      const usec = Number(/EXTEND_TIMEOUT_USEC=(\d+)/.exec(lines[extend]!)![1]);
      // 30 retries: 31 attempts of at most 10 s, 262.6 s of backoff, and the start's margin.
      expect(usec).toBe((worstCaseConnectMs(30) + START_MARGIN_MS) * 1000);
      expect(usec).toBe(632_600_000);
    } finally {
      await dispatcher.stop();
    }
  });
});
