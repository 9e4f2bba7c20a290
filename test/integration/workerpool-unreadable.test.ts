import { chmodSync, cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import {
  FIXTURE_PLUGINS,
  type Program,
  startPool,
  trustedTempDir,
  writeConfig,
} from '../support/programs.js';
import { isRoot } from '../support/users.js';

/**
 * A plugin the group's user cannot read (a checkout in a private directory): the pool refuses
 * the group before any fork, in one line, and a reload tries it again.
 */
describe.skipIf(!isRoot())('a group whose user cannot read its plugin (root)', () => {
  let pool: Program;
  let config: ReturnType<typeof writeConfig>;
  let client: TestClient;
  let plugins: string;

  afterAll(async () => {
    await client?.close();
    await pool?.stop();
    config?.cleanup();
    if (plugins) rmSync(plugins, { recursive: true, force: true });
  });

  it('is refused at once, naming user, path and the blocking directory; a reload retries it', async () => {
    const url = await useVhost('unreadable');
    client = await TestClient.connect(url);
    await client.declare('results');
    plugins = trustedTempDir('unreadable-');
    cpSync(join(FIXTURE_PLUGINS, 'taskqueue-plugin-pid'), join(plugins, 'taskqueue-plugin-pid'), {
      recursive: true,
    });
    chmodSync(plugins, 0o700);
    config = writeConfig(configText(url, plugins));
    pool = startPool(config.file);
    await pool.waitFor(/"msg":"ready"/);
    const refusals = pool.logs().filter((l) => l.code === 'TQ_ERR_GROUP_UNREADABLE');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({
      level: 50,
      group: 'pid',
      user: 'nobody',
      path: join(plugins, 'taskqueue-plugin-pid'),
    });
    // The directory that blocks it, and its mode.
    expect(String(refusals[0]!.msg)).toContain(`${plugins} (mode 0700`);
    // No child was forked for it: no restarts, no GROUP FAILED.
    expect(pool.logs().filter((l) => l.msg === 'child state')).toHaveLength(0);

    chmodSync(plugins, 0o755);
    // The config is unchanged: the reload plans the groups again and finds it readable now.
    pool.process.kill('SIGHUP');
    await pool.waitForRunning('pid', 2);
    await client.declare('worker_pid');
    await client.publish('worker_pid', workitem('pid', {}), { correlationId: 'readable' });
    const [result] = await client.collect('results', 1, 30_000);
    expect(String(result!.properties.correlationId)).toBe('readable');
    expect(pool.logs().filter((l) => l.code === 'TQ_ERR_GROUP_UNREADABLE')).toHaveLength(1);
  });
});

function configText(url: string, plugins: string): string {
  return `[amqp]
url = ${url}
connect_retries = 60

[workerpool]
plugin_paths = ${plugins}
shutdown_timeout = 10

[pid]
workers = 2
user = nobody
`;
}
