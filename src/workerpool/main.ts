#!/usr/bin/env node
import { probeBroker } from '../common/amqp/probe.js';
import { loadConfig } from '../common/config/load.js';
import { runDaemon } from '../common/daemon.js';
import { startMetricsServer } from '../common/metrics/server.js';
import { PoolHeartbeats } from './heartbeat.js';
import { WorkerPool } from './pool.js';
import { PoolStats } from './stats-totals.js';
import { poolStatusLine } from './status/status-line.js';

await runDaemon('taskqueue-workerpool', async ({ config, log, configFile }) => {
  const { metrics: metricsConfig } = config.workerpool;
  // Children's counts are kept only when someone may read them.
  const stats = metricsConfig.listen ? new PoolStats() : undefined;
  const pool = new WorkerPool(config, log, undefined, stats);
  // Before connecting: a token or address that cannot work stops the pool at once.
  const metrics = await startMetricsServer(
    metricsConfig,
    async () => (await import('./pool-metrics.js')).poolRegistry(pool, stats!),
    log,
  );
  // Refused credentials or vhost stop the pool here (exit 78), before any child is forked.
  if ((await probeBroker(config.amqp, 'taskqueue-workerpool')) === 'unreachable') {
    log.warn('broker not reachable at start; the children keep trying');
  }
  const groups = pool.start();
  log.info({ groups }, 'worker pool started');
  // Every pool on every host, seen by the API daemons (GET /v1/pools): only with tracking on.
  const heartbeats = config.tracking.enabled
    ? new PoolHeartbeats({
        amqp: config.amqp,
        intervalS: config.tracking.heartbeatInterval,
        snapshot: () => pool.snapshot(),
        log,
      })
    : undefined;
  heartbeats?.start();
  return {
    ready: pool.settled(),
    stop: async () => {
      await pool.stop();
      await heartbeats?.stop();
      await metrics?.close();
    },
    status: {
      socket: config.workerpool.statusSocket,
      snapshot: () => pool.snapshot(),
      line: () =>
        poolStatusLine(
          pool.summary(),
          pool.refused().map((group) => group.name),
        ),
    },
    // SIGHUP: a config that does not load is refused and the running children carry on.
    reload: async () => {
      let next: typeof config;
      try {
        next = loadConfig(configFile);
      } catch (err) {
        log.error(
          { code: (err as { code?: string }).code, file: configFile },
          `reload refused: ${(err as Error).message}`,
        );
        return;
      }
      for (const warning of next.warnings) log.warn({ file: configFile }, warning);
      log.info({ file: configFile }, 'reloading');
      await pool.reload(next);
      log.info({ groups: Object.keys(pool.status()) }, 'reloaded');
    },
  };
});
