import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RUN_ROOT, runToEnd, trustedTempDir } from '../support/programs.js';
import { isRoot } from '../support/users.js';

// RUN_ROOT: nobody runs it, who cannot read a checkout in a private directory.
const CLI = join(RUN_ROOT, 'dist/cli/main.js');

// Being refused a file needs a user other than root, which only root can become.
if (!isRoot()) {
  console.warn('SKIPPED: config-access tests need root (setpriv to nobody); run them as root');
}

/** `taskqueue ARGS` as nobody (who is not in group taskqueue). */
function taskqueueAsNobody(args: string[]) {
  const setpriv = ['--reuid', '65534', '--regid', '65534', '--clear-groups'];
  return runToEnd(['setpriv', ...setpriv, process.execPath, CLI, ...args]);
}

describe.runIf(isRoot())('a config file the user may not read (0640 root:taskqueue)', () => {
  const dir = trustedTempDir('config-access-');
  const file = join(dir, 'config.ini');
  writeFileSync(file, '[amqp]\npasswd = s3cr3t\n');
  chmodSync(file, 0o640);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('check-config says to join group taskqueue, or use -c or TASKQUEUE_AMQP_URL (exit 78)', async () => {
    const result = await taskqueueAsNobody(['check-config', '-c', file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('TQ_ERR_CONFIG_READ');
    expect(result.stderr).toContain('join the group (adduser $USER taskqueue');
    expect(result.stderr).toContain('-c FILE');
    expect(result.stderr).toContain('TASKQUEUE_AMQP_URL=');
    expect(result.stderr).not.toContain('s3cr3t');
  });

  it('the other commands say the same', async () => {
    const result = await taskqueueAsNobody(['plugins', '-c', file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('join the group (adduser $USER taskqueue');
  });
});

/** `taskqueue ARGS` as the test's user. */
function taskqueue(args: string[]) {
  return runToEnd([process.execPath, CLI, ...args]);
}

describe('taskqueue check-config on hostile or outdated files', () => {
  const dir = trustedTempDir('check-config-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 78 with TQ_ERR_CONFIG_VALUE on 10 levels of 10 references (was: V8 abort)', async () => {
    const lines = ['[worker1]', 'l0 = x'];
    for (let level = 1; level <= 10; level++) {
      lines.push(`l${level} = ${`%(l${level - 1})s`.repeat(10)}`);
    }
    const file = join(dir, 'bomb.ini');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const result = await taskqueue(['check-config', '-c', file]);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('TQ_ERR_CONFIG_VALUE');
    expect(result.stderr).toContain('[worker1] l');
  });

  it('warns on stderr that [DEFAULT] user is not the broker login, and accepts the file', async () => {
    const file = join(dir, 'default-user.ini');
    // nobody: check-config also checks that the user exists on this host.
    writeFileSync(file, '[DEFAULT]\nuser = nobody\n\n[amqp]\nhost = localhost\n');
    const result = await taskqueue(['check-config', '-c', file]);
    expect(result.code).toBe(0);
    expect(result.stderr.trim().split('\n')).toEqual([
      `warning: ${file}:2: [DEFAULT] user is not used by [amqp] (fixed sections do not inherit [DEFAULT]); the broker login is "guest" unless [amqp] sets user`,
    ]);
  });
});
