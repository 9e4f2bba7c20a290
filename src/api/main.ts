#!/usr/bin/env node
import { AmqpConnection } from '../common/amqp/connection.js';
import { declareQueue } from '../common/amqp/queues.js';
import { runDaemon } from '../common/daemon.js';
import { hasCode, TqError } from '../common/errors.js';
import { exitStatusFor } from '../common/exit.js';
import { DirectSubmitter } from '../common/forward/direct-submitter.js';
import { loadApiTokens } from './auth/load.js';
import { cancelPublisher } from './cancel.js';
import { dashboardBuilt, dashboardUrl } from './dashboard.js';
import { listenForHeartbeats } from './pools/heartbeat-listener.js';
import { PoolRegistry } from './pools/pool-registry.js';
import { taskPublisher } from './publish.js';
import { buildServer } from './server.js';
import { StateChanges } from './state-changes.js';
import { openStore } from './store/open.js';
import { retentionFromConfig, startRetention } from './store/retention.js';
import { reportApplied } from './track-changes.js';
import { Tracker } from './tracker/tracker.js';

await runDaemon('taskqueue-api', async ({ config, log, exit }) => {
  const api = config.api;
  // Before anything else: a tokens file or store that cannot work stops the daemon at once (78).
  let tokens = loadApiTokens(api, log);
  const store = await openStore(api.store, {
    resultBytes: api.resultCap,
    workitemBytes: api.workitemCap,
  });
  await store.migrate();
  const retention = startRetention(store, retentionFromConfig(api), {
    intervalMs: api.sweepInterval * 1000,
    onSwept: (deleted) => {
      if (deleted > 0) log.info({ deleted }, 'finished tasks past their retention deleted');
    },
    onError: (err) =>
      log.warn({ err: (err as Error).message }, 'retention sweep failed; next one retries'),
  });
  // Submits go straight to each type's queue unless [dispatcher] direct_path = no.
  const direct = config.dispatcher.directPath ? new DirectSubmitter(config) : undefined;
  const connection = new AmqpConnection(config.amqp, {
    name: 'taskqueue-api',
    logger: log,
    setup: (channel, model) =>
      direct
        ? direct.setup(channel, model)
        : declareQueue(channel, config.dispatcher.queue, config.amqp.queueType),
  });
  connection.on('fatal', (err) => {
    log.fatal({ code: err.code }, err.message);
    exit(exitStatusFor(err));
  });
  const changes = new StateChanges();
  // Without [tracking] no event is published: the API records submits, and says at start that
  // their states stay `queued`.
  const tracker = config.tracking.enabled
    ? new Tracker({ amqp: config.amqp, store, log, onApplied: reportApplied(store, changes, log) })
    : undefined;
  if (tracker === undefined) {
    log.warn('[tracking] enabled = no: tasks stay queued in the API, no outcome is recorded');
  } else {
    tracker.connection.on('fatal', (err) => {
      log.fatal({ code: err.code }, err.message);
      exit(exitStatusFor(err));
    });
  }
  // Every pool's heartbeat, when the pools send them ([tracking] enabled on them and here).
  const pools = config.tracking.enabled ? new PoolRegistry() : undefined;
  const heartbeats = pools && listenForHeartbeats(config.amqp, pools, log);
  // As for the publishing connection: a broker gone for good ends the daemon (69), and systemd
  // restarts it, rather than a daemon that silently stops hearing pools.
  heartbeats?.on('fatal', (err) => {
    log.fatal({ code: err.code }, `pool heartbeats: ${err.message}`);
    exit(exitStatusFor(err));
  });
  const server = await buildServer({
    pools,
    config,
    store,
    changes,
    publish: taskPublisher(connection, config.dispatcher.queue, direct),
    cancel: cancelPublisher(connection),
    tokens: () => tokens,
    loopbackWithoutToken: api.loopbackWithoutToken,
    maxBodySize: api.maxBodySize,
    maxReplyWait: api.maxReplyWait,
    dashboard: api.dashboard,
    log,
  });
  try {
    await server.listen({ host: api.listen.host, port: api.listen.port });
  } catch (err) {
    await retention.stop();
    await store.close();
    throw new TqError(
      'TQ_ERR_API_LISTEN',
      `[api] listen ${api.listen.host}:${api.listen.port}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const address = server.server.address();
  log.info(
    typeof address === 'object' && address !== null
      ? { host: address.address, port: address.port }
      : {},
    'API listening',
  );
  if (api.dashboard && typeof address === 'object' && address !== null) {
    const url = dashboardUrl(address.address, address.port);
    if (dashboardBuilt()) log.info({ url }, `dashboard: ${url}`);
    else log.warn({ url }, `dashboard: ${url} is not built (npm run build): / answers 404`);
  }
  return {
    // Submits before the broker is reached are answered TQ_ERR_API_PUBLISH (503): reads work.
    ready: Promise.all([connection.start(), tracker?.start(), heartbeats?.start()]).then(() => {}),
    reload: async () => {
      try {
        tokens = loadApiTokens(api, log);
        log.info({ tokens: tokens.length }, 'API tokens reloaded');
      } catch (err) {
        if (!hasCode(err, 'TQ_ERR_API_TOKENS_FILE')) throw err;
        log.error(
          { code: (err as TqError).code },
          `${(err as Error).message}; the old tokens stay`,
        );
      }
    },
    stop: async () => {
      await server.close();
      // The events in hand are applied and acked before the store closes.
      await tracker?.stop();
      await heartbeats?.close();
      await connection.close();
      await retention.stop();
      await store.close();
    },
  };
});
