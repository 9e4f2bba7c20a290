import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/common/config/load.js';
import { fixture } from './helpers.js';

describe('the SPEC §2 example', () => {
  const config = loadConfig(fixture('spec-example.ini'), {});

  it('has the types worker1 and worker2, in file order', () => {
    expect(config.configuredTypes).toEqual(['worker1', 'worker2']);
  });

  it('runs 3 children of worker1 as the pool user', () => {
    const groups = config.groupsFor('worker1');
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({
      name: 'worker1',
      type: 'worker1',
      instance: undefined,
      workers: 3,
      user: undefined,
      group: undefined,
    });
  });

  it('runs worker2 as two instances, one child each, as users bifh1 and bifh2', () => {
    const groups = config.groupsFor('worker2');
    expect(groups.map((g) => [g.name, g.type, g.instance, g.workers, g.user])).toEqual([
      ['worker2_bifh1', 'worker2', 'bifh1', 1, 'bifh1'],
      ['worker2_bifh2', 'worker2', 'bifh2', 1, 'bifh2'],
    ]);
  });

  it('builds the broker URL with the vhost percent-encoded', () => {
    expect(config.amqp.urls).toEqual(['amqp://wfworker:wfworker@localhost:5672/%2Fwfworker']);
  });

  it('fills in every default of SPEC §2', () => {
    expect(config.amqp).toMatchObject({
      heartbeat: 30,
      queueType: 'classic',
      connectRetries: 30,
      tls: { ca: undefined, cert: undefined, key: undefined },
    });
    expect(config.dispatcher).toEqual({
      queue: 'taskqueue',
      prefetch: 100,
      maxBodySize: 16 * 1024 * 1024,
      maxBytesInFlight: 64 * 1024 * 1024,
      types: '*',
      directPath: true,
      metrics: { listen: undefined, tokenFile: '/etc/taskqueue/metrics.token' },
      statusSocket: '/run/taskqueue/dispatcher/status.sock',
    });
    expect(config.workerpool).toEqual({
      pluginPaths: [],
      enabled: '*',
      shutdownTimeout: 30,
      logLevel: 'info',
      metrics: { listen: undefined, tokenFile: '/etc/taskqueue/metrics.token' },
      statusSocket: '/run/taskqueue/workerpool/status.sock',
    });
    expect(config.groupsFor('worker1')[0]).toMatchObject({
      prefetch: 1,
      resultsExchange: '',
      resultsRoutingKey: 'results',
      maxAttempts: 1,
      retryDelay: 10,
      maxCrashes: 3,
      timeout: undefined,
      maxTasksPerChild: undefined,
      maxMemoryPerChild: undefined,
      maxBodySize: 16 * 1024 * 1024,
      settings: {},
    });
  });

  it('runs an installed plugin without a section with [DEFAULT] alone', () => {
    expect(config.groupsFor('echo')).toEqual([
      expect.objectContaining({ name: 'echo', type: 'echo', instance: undefined, workers: 1 }),
    ]);
  });

  it('hands out copies, so one caller cannot change the groups of another', () => {
    const first = config.groupsFor('worker2');
    first[0]!.workers = 99;
    first[0]!.settings.x = 'y';
    expect(config.groupsFor('worker2')[0]).toMatchObject({ workers: 1, settings: {} });
  });
});
