#!/usr/bin/env node
import { runDaemon } from '../common/daemon.js';
import { exitStatusFor } from '../common/exit.js';
import { startMetricsServer } from '../common/metrics/server.js';
import { Dispatcher } from './dispatcher.js';
import { buildDispatcherStatus, dispatcherStatusLine } from './status.js';

await runDaemon('taskqueue-dispatcher', async ({ config, log, exit }) => {
  const dispatcher = new Dispatcher(config, log);
  // Before connecting: a token or address that cannot work stops the daemon at once.
  const metrics = await startMetricsServer(
    config.dispatcher.metrics,
    async () => (await import('./dispatcher-metrics.js')).dispatcherRegistry(dispatcher),
    log,
  );
  dispatcher.connection.on('fatal', (err) => {
    log.fatal({ code: err.code }, err.message);
    exit(exitStatusFor(err));
  });
  const startedAt = Date.now();
  return {
    // Not awaited here: the status socket answers while the broker is still being reached.
    ready: dispatcher.start(),
    stop: async () => {
      await dispatcher.stop();
      await metrics?.close();
    },
    status: {
      socket: config.dispatcher.statusSocket,
      snapshot: () =>
        buildDispatcherStatus(dispatcher.facts(), { now: Date.now(), pid: process.pid, startedAt }),
      line: () => dispatcherStatusLine(dispatcher.facts()),
    },
  };
});
