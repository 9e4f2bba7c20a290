import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vhostUrl, WATCHDOG_SCRIPT } from '@taskqueue/dev/rabbitmq-node';
import { afterEach, describe, expect, it } from 'vitest';

const SCRIPT = resolve(
  fileURLToPath(new URL('../../../dev/scripts/tq-rabbit-watchdog.sh', import.meta.url)),
);

describe('vhostUrl', () => {
  it('replaces the path with the vhost, keeping credentials and query', () => {
    expect(vhostUrl('amqp://guest:guest@127.0.0.1:5672', 'tq')).toBe(
      'amqp://guest:guest@127.0.0.1:5672/tq',
    );
    expect(vhostUrl('amqp://u:p@h:1/old?heartbeat=5', 'a b/c')).toBe(
      'amqp://u:p@h:1/a%20b%2Fc?heartbeat=5',
    );
    expect(vhostUrl('amqps://u@h', 'v')).toBe('amqps://u@h/v');
    expect(vhostUrl('amqp://h', 'v')).toBe('amqp://h/v');
  });
});

describe('the watchdog script', () => {
  it('is found from the build (dev/dist) and from the source (dev/src)', async () => {
    expect(WATCHDOG_SCRIPT).toBe(SCRIPT);
    // The source of the module, as vitest runs it when a test imports dev/src directly.
    const source = await import('../../../dev/src/rabbitmq-node.js');
    expect(source.WATCHDOG_SCRIPT).toBe(SCRIPT);
    accessSync(SCRIPT, constants.R_OK);
  });

  const started: ChildProcess[] = [];
  const dirs: string[] = [];
  afterEach(() => {
    for (const child of started.splice(0)) {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const detached = (seconds: number) => {
    const child = spawn('sleep', [String(seconds)], { detached: true, stdio: 'ignore' });
    child.on('error', () => {});
    started.push(child);
    return child;
  };
  const exited = (child: ChildProcess) =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((done) => child.once('exit', () => done()));

  it('stops the server group and epmd named in node.json once the owner is gone, then removes the directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tq-watchdog-test-'));
    dirs.push(dir);
    const owner = detached(60);
    const server = detached(60); // leads a process group of its own, as rabbitmq-server does
    const epmd = detached(60);
    writeFileSync(
      join(dir, 'node.json'),
      `${JSON.stringify({ ownerPid: owner.pid, serverPid: server.pid, epmdPid: epmd.pid }, null, 2)}\n`,
    );
    const watchdog = spawn('/bin/sh', [SCRIPT, dir, String(owner.pid), '1', '2'], {
      stdio: 'ignore',
    });
    started.push(watchdog);
    // While the owner lives, the watchdog waits and touches nothing.
    await new Promise((r) => setTimeout(r, 1200));
    expect(watchdog.exitCode).toBeNull();
    expect(server.exitCode ?? server.signalCode).toBeNull();

    owner.kill('SIGKILL');
    await Promise.all([exited(watchdog), exited(server), exited(epmd)]);
    expect(watchdog.exitCode).toBe(0);
    expect(server.signalCode).toBe('SIGTERM');
    expect(epmd.signalCode).toBe('SIGTERM');
    expect(existsSync(dir)).toBe(false);
  });
});
