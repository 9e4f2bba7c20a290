#!/usr/bin/env node
import { runDaemon } from '../common/daemon.js';
import { exitStatusFor } from '../common/exit.js';
import { startMetricsServer } from '../common/metrics/server.js';
import { Dispatcher } from './dispatcher.js';

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
  await dispatcher.start();
  return {
    stop: async () => {
      await dispatcher.stop();
      await metrics?.close();
    },
  };
});
