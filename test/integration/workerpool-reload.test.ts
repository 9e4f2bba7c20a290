import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import { livePids } from '../support/pool-children.js';
import {
  type Program,
  startPool,
  testConfig,
  trustedTempDir,
  writeConfig,
} from '../support/programs.js';

async function answered(client: TestClient, type: string, count: number, prefix: string) {
  await client.declare(`worker_${type}`);
  for (let n = 0; n < count; n++) {
    await client.publish(`worker_${type}`, workitem(type, { n }), {
      correlationId: `${prefix}-${n}`,
    });
  }
  const results = await client.collect('results', count, 30_000);
  return results.map((m) => String(m.properties.correlationId)).sort();
}

const ids = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, n) => `${prefix}-${n}`).sort();

describe('worker pool reload (SIGHUP)', () => {
  let url: string;
  let client: TestClient;
  let pool: Program;
  let config: ReturnType<typeof writeConfig>;
  const sections = (pidWorkers: number, slowSleep = 10) =>
    `[pid]\nworkers = ${pidWorkers}\n[slow]\nworkers = 2\nsleep_ms = ${slowSleep}\n`;

  beforeAll(async () => {
    url = await useVhost('reload');
    client = await TestClient.connect(url);
    await client.declare('results');
    config = writeConfig(testConfig(url, ['pid', 'slow'], sections(2)));
    pool = startPool(config.file);
    await pool.waitForRunning('pid', 2);
    await pool.waitForRunning('slow', 2);
  });

  afterAll(async () => {
    await client?.close();
    await pool?.stop();
    config?.cleanup();
  });

  it('after one group’s count changes, only that group’s PIDs change', async () => {
    const pidBefore = livePids(pool, 'pid');
    const slowBefore = livePids(pool, 'slow');
    expect(pidBefore).toHaveLength(2);
    expect(slowBefore).toHaveLength(2);

    writeFileSync(config.file, testConfig(url, ['pid', 'slow'], sections(4)));
    pool.process.kill('SIGHUP');
    await pool.waitFor(/"msg":"reloaded"/);
    await expect.poll(() => livePids(pool, 'pid'), { timeout: 20_000 }).toHaveLength(4);
    const pidAfter = livePids(pool, 'pid');
    expect(pidAfter).toEqual(expect.arrayContaining(pidBefore)); // grown, nobody replaced
    expect(livePids(pool, 'slow')).toEqual(slowBefore);

    writeFileSync(config.file, testConfig(url, ['pid', 'slow'], sections(1)));
    pool.process.kill('SIGHUP');
    await expect.poll(() => livePids(pool, 'pid'), { timeout: 20_000 }).toHaveLength(1);
    expect(pidAfter).toEqual(expect.arrayContaining(livePids(pool, 'pid')));
    expect(livePids(pool, 'slow')).toEqual(slowBefore);
    expect(await answered(client, 'pid', 5, 'shrunk')).toEqual(ids('shrunk', 5));
  });

  it('restarts a group whose settings changed, and leaves the others alone', async () => {
    const pidBefore = livePids(pool, 'pid');
    const slowBefore = livePids(pool, 'slow');
    writeFileSync(config.file, testConfig(url, ['pid', 'slow'], sections(1, 20)));
    pool.process.kill('SIGHUP');
    await expect
      .poll(
        () => {
          const now = livePids(pool, 'slow');
          return now.length === 2 && now.every((pid) => !slowBefore.includes(pid));
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    expect(livePids(pool, 'pid')).toEqual(pidBefore);
    expect(await answered(client, 'slow', 4, 'resettled')).toEqual(ids('resettled', 4));
  });

  it('refuses a broken edit, logs why, and the running children keep serving', async () => {
    const before = [...livePids(pool, 'pid'), ...livePids(pool, 'slow')];
    writeFileSync(
      config.file,
      `${testConfig(url, ['pid', 'slow'], sections(3))}\n[pid]\nworkers = lots\n`,
    );
    pool.process.kill('SIGHUP');
    const refused = JSON.parse(await pool.waitFor(/reload refused/)) as Record<string, unknown>;
    expect(refused.level).toBe(50);
    expect(String(refused.msg)).toContain(config.file);
    expect([...livePids(pool, 'pid'), ...livePids(pool, 'slow')]).toEqual(before);
    expect(await answered(client, 'pid', 5, 'after-broken')).toEqual(ids('after-broken', 5));
    expect(pool.process.exitCode).toBeNull();
  });
});

describe('worker pool reload of a failed group', () => {
  let config: ReturnType<typeof writeConfig>;
  let pool: Program;

  afterAll(async () => {
    await pool?.stop();
    config?.cleanup();
  });

  it('retries a GROUP FAILED group at once on SIGHUP with an unchanged config, and says so', async () => {
    const url = await useVhost('reload-failed');
    config = writeConfig(testConfig(url, ['crash-on-start'], '[crash-on-start]\nworkers = 1\n'));
    pool = startPool(config.file);
    const failed = JSON.parse(await pool.waitFor(/"code":"TQ_ERR_GROUP_FAILED"/, 90_000)) as {
      time: number;
      retryInS: number;
    };
    pool.process.kill('SIGHUP');
    const retried = JSON.parse(await pool.waitFor(/reload: retrying failed group now/)) as {
      level: number;
      group: string;
    };
    expect(retried).toMatchObject({ level: 30, group: 'crash-on-start' });
    const restart = JSON.parse(
      await pool.waitFor(/"group":"crash-on-start".*"to":"starting".*"cause":"retry on reload"/),
    ) as { time: number };
    // Before the pause would have ended on its own.
    expect(restart.time).toBeLessThan(failed.time + failed.retryInS * 1000);
    expect(
      pool.logs().filter((l) => String(l.msg).startsWith('reload: retrying failed group')),
    ).toHaveLength(1);
  });
});

describe('worker pool reload after a plugin upgrade', () => {
  let config: ReturnType<typeof writeConfig>;
  let pool: Program;
  let client: TestClient;
  let plugins: string;

  /** A plugin package whose results say which version served them. */
  const install = (version: string) => {
    const dir = join(plugins, 'taskqueue-plugin-upgraded');
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    writeFileSync(
      join(dir, 'index.js'),
      `export default class Worker {
  async handleTask(workitem) {
    workitem.fields.served_by = ${JSON.stringify(version)};
    return workitem;
  }
}
`,
    );
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'taskqueue-plugin-upgraded',
        version,
        type: 'module',
        main: 'index.js',
        taskqueue: { api: '^1.0.0' },
      }),
    );
  };

  afterAll(async () => {
    await client?.close();
    await pool?.stop();
    config?.cleanup();
    if (plugins) rmSync(plugins, { recursive: true, force: true });
  });

  it('restarts the groups of a plugin installed in another version, and only those', async () => {
    plugins = trustedTempDir('upgrade-');
    install('1.0.0');
    const url = await useVhost('reload-upgrade');
    client = await TestClient.connect(url);
    await client.declare('results');
    config = writeConfig(
      testConfig(url, ['upgraded', 'pid'], '[pid]\nworkers = 2\n').replace(
        'plugin_paths = ',
        `plugin_paths = ${plugins}, `,
      ),
    );
    pool = startPool(config.file);
    await pool.waitForRunning('pid', 2);
    await pool.waitForRunning('upgraded', 1);
    const pidBefore = livePids(pool, 'pid');
    const upgradedBefore = livePids(pool, 'upgraded');

    install('1.1.0');
    pool.process.kill('SIGHUP');
    const restarting = JSON.parse(
      await pool.waitFor(/"group":"upgraded".*reload: group changed; restarting it/),
    ) as Record<string, unknown>;
    expect(restarting.pluginVersion).toBe('1.0.0 -> 1.1.0');
    // One new child, and the old one gone: the task below can only meet the new code.
    await expect
      .poll(
        () => {
          const now = livePids(pool, 'upgraded');
          return now.length === 1 && !upgradedBefore.includes(now[0]!);
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    expect(livePids(pool, 'pid')).toEqual(pidBefore);

    await client.declare('worker_upgraded');
    await client.publish('worker_upgraded', workitem('upgraded'), { correlationId: 'upgraded' });
    const [result] = await client.collect('results', 1, 30_000);
    expect(JSON.parse(result!.content.toString()).fields.served_by).toBe('1.1.0');
  });
});
