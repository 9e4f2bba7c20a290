#!/usr/bin/env node
import { runDaemon } from '../common/daemon.js';
import { exitStatusFor } from '../common/exit.js';
import { Dispatcher } from './dispatcher.js';
import { buildDispatcherStatus, dispatcherStatusLine } from './status.js';

await runDaemon('taskqueue-dispatcher', async ({ config, log, exit }) => {
  const dispatcher = new Dispatcher(config, log);
  dispatcher.connection.on('fatal', (err) => {
    log.fatal({ code: err.code }, err.message);
    exit(exitStatusFor(err));
  });
  const startedAt = Date.now();
  return {
    // Not awaited here: the status socket answers while the broker is still being reached.
    ready: dispatcher.start(),
    stop: () => dispatcher.stop(),
    status: {
      socket: config.dispatcher.statusSocket,
      snapshot: () =>
        buildDispatcherStatus(dispatcher.facts(), { now: Date.now(), pid: process.pid, startedAt }),
      line: () => dispatcherStatusLine(dispatcher.facts()),
    },
  };
});
