#!/usr/bin/env node
import { runDaemon } from '../common/daemon.js';
import { WorkerPool } from './pool.js';

await runDaemon('taskqueue-workerpool', async ({ config, log }) => {
  const pool = new WorkerPool(config, log);
  const groups = pool.start();
  log.info({ groups: groups.map((g) => g.name) }, 'worker pool started');
  return { stop: () => pool.stop() };
});
