#!/usr/bin/env node
import { probeBroker } from '../common/amqp/probe.js';
import { loadConfig } from '../common/config/load.js';
import { runDaemon } from '../common/daemon.js';
import { WorkerPool } from './pool.js';
import { poolStatusLine } from './status/status-line.js';

await runDaemon('taskqueue-workerpool', async ({ config, log, configFile }) => {
  // Refused credentials or vhost stop the pool here (exit 78), before any child is forked.
  if ((await probeBroker(config.amqp, 'taskqueue-workerpool')) === 'unreachable') {
    log.warn('broker not reachable at start; the children keep trying');
  }
  const pool = new WorkerPool(config, log);
  const groups = pool.start();
  log.info({ groups }, 'worker pool started');
  return {
    ready: pool.settled(),
    stop: () => pool.stop(),
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
