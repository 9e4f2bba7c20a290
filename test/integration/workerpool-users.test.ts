import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import { childPids, uidOf } from '../support/processes.js';
import { FIXTURE_PLUGINS, Program, trustedTempDir, writeConfig } from '../support/programs.js';
import { ensureUser, isRoot, lookupUser, removeCreated, type UnixUser } from '../support/users.js';

// Switching users needs root. CI runs as root; elsewhere say loudly what is not being tested.
if (!isRoot()) {
  console.warn(
    'SKIPPED: workerpool-users tests need root (useradd, setuid); run npm test as root to run them',
  );
}

interface Identity {
  uid: number;
  gid: number;
  euid: number;
  groups: number[];
  home: string;
  user: string;
  logname: string;
  pid: number;
}

/** A plugin path holding copies of the whoami fixture as the types the SPEC example names. */
function pluginPath(types: string[]): { dir: string; cleanup: () => void } {
  // 0755: the children read it as bifh1, bifh2, nobody. Not under /tmp: see trustedTempDir.
  const dir = trustedTempDir('plugins-');
  for (const type of types) {
    const pkg = join(dir, `taskqueue-plugin-${type}`);
    mkdirSync(pkg);
    copyFileSync(join(FIXTURE_PLUGINS, 'taskqueue-plugin-whoami/index.js'), join(pkg, 'index.js'));
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: `taskqueue-plugin-${type}`,
        version: '1.0.0',
        type: 'module',
        main: 'index.js',
        taskqueue: { api: '^1.0.0' },
      }),
    );
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The SPEC §2 example verbatim, plus where to find the broker and the plugins. */
function specExample(url: string, plugins: string, extra = '', enabled = '*'): string {
  return `[DEFAULT]
workers: 1

[amqp]
host: localhost
user: wfworker
passwd: wfworker
vhost: /wfworker
url: ${url}

[workerpool]
plugin_paths: ${plugins}
enabled: ${enabled}
shutdown_timeout: 5

; Workers
[worker1]
workers: 3

[worker2]
workers: bifh1, bifh2

[worker2_bifh1]
workers: 1
user: bifh1

[worker2_bifh2]
workers: 1
user: bifh2
${extra}`;
}

async function publish(client: TestClient, type: string, count: number, prefix: string) {
  await client.declare(`worker_${type}`);
  for (let n = 0; n < count; n++) {
    await client.publish(`worker_${type}`, workitem(type, { n }), {
      correlationId: `${prefix}-${n}`,
    });
  }
}

const identityOf = (message: { content: Buffer }) =>
  JSON.parse(message.content.toString()).fields.identity as Identity;

describe.skipIf(!isRoot())('worker pool users (root)', () => {
  let plugins: ReturnType<typeof pluginPath>;
  let bifh1: UnixUser;
  let bifh2: UnixUser;
  let nobody: UnixUser;

  beforeAll(() => {
    // bifh1 has a supplementary group, to see that the children keep theirs.
    bifh1 = ensureUser('bifh1', ['tq-bifh-extra']);
    bifh2 = ensureUser('bifh2');
    nobody = lookupUser('nobody');
    plugins = pluginPath(['worker1', 'worker2', 'worker3']);
  });

  afterAll(() => {
    plugins?.cleanup();
    removeCreated();
  });

  it('runs the SPEC example: 3 + 2 children, worker2 as bifh1 and bifh2 with their groups; an unknown user is refused', async () => {
    const url = await useVhost('users-root');
    const config = writeConfig(
      specExample(url, plugins.dir, '\n[worker3]\nuser: tq-no-such-user\n'),
    );
    const pool = new Program('workerpool', ['-c', config.file]);
    const client = await TestClient.connect(url);
    try {
      await pool.waitForRunning('worker1', 3);
      await pool.waitForRunning('worker2_bifh1');
      await pool.waitForRunning('worker2_bifh2');
      const refused = pool.logs().find((l) => l.group === 'worker3');
      expect(refused?.msg).toBe('group refused: unknown user tq-no-such-user');
      const children = childPids(pool.pid);
      expect(children).toHaveLength(5);
      expect(children.map(uidOf).sort()).toEqual(
        [nobody.uid, nobody.uid, nobody.uid, bifh1.uid, bifh2.uid].sort(),
      );

      await publish(client, 'worker2', 40, 'w2');
      await publish(client, 'worker1', 6, 'w1');
      await publish(client, 'worker3', 1, 'w3');
      const results = await client.collect('results', 46, 60_000);
      expect(results).toHaveLength(46);
      const worker2 = results.filter((m) => String(m.properties.correlationId).startsWith('w2-'));
      expect(worker2).toHaveLength(40);
      const seen = new Set<string>();
      for (const result of worker2) {
        const identity = identityOf(result);
        const user = [bifh1, bifh2].find((u) => u.uid === identity.uid);
        expect(user, `result ran as uid ${identity.uid}`).toBeDefined();
        expect(identity.euid).toBe(user!.uid);
        expect(identity.gid).toBe(user!.gid);
        expect([...identity.groups].sort((a, b) => a - b)).toEqual(user!.groups);
        expect([identity.user, identity.logname, identity.home]).toEqual([
          user!.name,
          user!.name,
          `/var/tmp/${user!.name}`,
        ]);
        seen.add(user!.name);
      }
      expect([...seen].sort()).toEqual(['bifh1', 'bifh2']);
      expect(bifh1.groups.length).toBeGreaterThan(1); // the supplementary group is really there
      for (const result of results.filter((m) =>
        String(m.properties.correlationId).startsWith('w1-'),
      )) {
        expect(identityOf(result).euid).toBe(nobody.uid); // no user: never root
      }
      // The refused group's task waits in its queue, unconsumed, for a pool that may run it.
      expect(await client.consumerCount('worker_worker3')).toBe(0);
      expect(await client.messageCount('worker_worker3')).toBe(1);
    } finally {
      await client.close();
      await pool.stop();
      config.cleanup();
    }
  });

  it('run as a non-root user, refuses the groups with user and runs none of their tasks', async () => {
    const url = await useVhost('users-nonroot');
    const poolUser = ensureUser('tq-pool-test');
    const config = writeConfig(specExample(url, plugins.dir, '', 'worker1, worker2'));
    chmodSync(config.dir, 0o755);
    chmodSync(config.file, 0o644);
    const pool = new Program('workerpool', ['-c', config.file], {}, poolUser);
    const client = await TestClient.connect(url);
    try {
      await pool.waitForRunning('worker1', 3);
      for (const name of ['worker2_bifh1', 'worker2_bifh2']) {
        const refused = pool.logs().find((l) => l.group === name && l.msg !== 'child state');
        expect(refused?.msg).toMatch(
          /^group refused: user bifh\d requested but the pool is not root/,
        );
      }
      expect(childPids(pool.pid)).toHaveLength(3);

      await publish(client, 'worker2', 5, 'w2');
      await publish(client, 'worker1', 5, 'w1');
      const results = await client.collect('results', 5, 30_000);
      expect(results.map((m) => m.properties.correlationId).sort()).toEqual([
        'w1-0',
        'w1-1',
        'w1-2',
        'w1-3',
        'w1-4',
      ]);
      for (const result of results) expect(identityOf(result).uid).toBe(poolUser.uid);
      // What the pool runs consumes: worker1's three children. A worker2 child started by
      // mistake would be a consumer of worker_worker2.
      await expect
        .poll(() => client.consumerCount('worker_worker1'), { timeout: 10_000, interval: 100 })
        .toBe(3);
      expect(await client.consumerCount('worker_worker2')).toBe(0);
      expect(await client.drain('results')).toEqual([]);
      expect(await client.messageCount('worker_worker2')).toBe(5);
    } finally {
      await client.close();
      await pool.stop();
      config.cleanup();
    }
  });
});
