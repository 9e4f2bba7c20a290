import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/common/config/load.js';
import { fixture } from './helpers.js';

describe('good configs', () => {
  it('reads continuation lines, both comment prefixes and both delimiters', () => {
    const config = loadConfig(fixture('good-continuation.ini'), {});
    expect(config.amqp.urls).toEqual([
      'amqp://rabbit1.example.org/%2F',
      'amqp://rabbit2.example.org/%2F',
    ]);
    expect(config.amqp.queueType).toBe('quorum');
    expect(config.configuredTypes).toEqual(['shell']);
    const [shell] = config.groupsFor('shell');
    expect(shell!.workers).toBe(2);
    expect(shell!.settings).toEqual({
      command: '/usr/bin/convert\n--quality 90\n\n--strip',
      description: 'first line\nsecond line\ndeeper line',
      empty: '',
      colon_in_value: 'http://example.org:8080/a=b',
    });
  });

  it('interpolates in the context of the section looked up, as ConfigParser', () => {
    const config = loadConfig(fixture('good-interpolation.ini'), {});
    expect(config.groupsFor('worker1')[0]!.settings).toEqual({
      root: '/opt/worker1',
      input: '/opt/worker1/data/in',
      discount: '50%',
      own: '/opt/worker1/data/in and 100% of /opt/worker1',
      data_dir: '/opt/worker1/data',
    });
    expect(config.groupsFor('other')[0]!.settings).toEqual({
      root: '/srv/taskqueue',
      data_dir: '/srv/taskqueue/data',
    });
    expect(config.amqp.urls).toEqual([
      'amqp://guest:guest@rabbit.example.org:5672/%2Fsrv%2Ftaskqueue',
    ]);
  });

  it("tolerates and ignores the original's logging sections, %(asctime)s and all", () => {
    const config = loadConfig(fixture('good-logging-sections.ini'), {});
    expect(config.configuredTypes).toEqual(['worker1']);
    expect(config.groupsFor('worker1')[0]!.workers).toBe(3);
    expect(config.groupsFor('handler_console')[0]!.settings).toEqual({});
  });

  it('reads every key beyond the original', () => {
    const config = loadConfig(fixture('good-limits.ini'), {});
    expect(config.amqp).toEqual({
      urls: ['amqps://tq:s3cr%40t%3A%2Fpw@rabbit.example.org:5671/%2F'],
      heartbeat: 0,
      tls: {
        ca: '/etc/ssl/certs/ca.pem',
        cert: '/etc/taskqueue/client.pem',
        key: '/etc/taskqueue/client.key',
      },
      queueType: 'classic',
      connectRetries: 5,
    });
    expect(config.dispatcher).toEqual({
      queue: 'tasks.in',
      prefetch: 500,
      maxBodySize: 16 * 1024 * 1024,
      maxBytesInFlight: 64 * 1024 * 1024,
      types: '*',
      directPath: true,
      metrics: { listen: undefined, tokenFile: '/etc/taskqueue/metrics.token' },
      statusSocket: '/run/taskqueue/dispatcher/status.sock',
    });
    expect(config.workerpool).toEqual({
      pluginPaths: ['/opt/taskqueue/plugins', '/usr/local/lib/taskqueue'],
      enabled: ['convert', 'shell'],
      shutdownTimeout: 2.5,
      logLevel: 'debug',
      metrics: { listen: undefined, tokenFile: '/etc/taskqueue/metrics.token' },
      statusSocket: '/run/taskqueue/workerpool/status.sock',
    });
    expect(config.groupsFor('convert')).toEqual([
      {
        name: 'convert',
        type: 'convert',
        instance: undefined,
        workers: 4,
        user: 'convert',
        group: 'media',
        resultsExchange: 'amq.direct',
        resultsRoutingKey: 'ruote_workitems',
        prefetch: 2,
        maxAttempts: 3,
        retryDelay: 0.5,
        maxCrashes: 5,
        timeout: 600,
        maxTasksPerChild: 1000,
        maxMemoryPerChild: 512,
        maxBodySize: 16 * 1024 * 1024,
        settings: { quality: '90' },
      },
    ]);
    const [fast, slow] = config.groupsFor('shell');
    expect(fast).toMatchObject({
      name: 'shell_fast',
      workers: 2,
      timeout: undefined,
      maxCrashes: 5,
    });
    expect(slow).toMatchObject({
      name: 'shell_slow',
      workers: 1,
      timeout: 3600,
      maxTasksPerChild: undefined,
      settings: { command: '/usr/bin/slow-job' },
    });
  });
});
