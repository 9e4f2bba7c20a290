#!/usr/bin/env node
import { runDaemon } from '../common/daemon.js';
import { exitStatusFor } from '../common/exit.js';
import { Dispatcher } from './dispatcher.js';

await runDaemon('taskqueue-dispatcher', async ({ config, log, exit }) => {
  const dispatcher = new Dispatcher(config, log);
  dispatcher.connection.on('fatal', (err) => {
    log.fatal({ code: err.code }, err.message);
    exit(exitStatusFor(err));
  });
  await dispatcher.start();
  return { stop: () => dispatcher.stop() };
});
