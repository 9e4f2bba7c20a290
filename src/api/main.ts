#!/usr/bin/env node
import { AmqpConnection } from '../common/amqp/connection.js';
import { declareQueue } from '../common/amqp/queues.js';
import { runDaemon } from '../common/daemon.js';
import { hasCode, TqError } from '../common/errors.js';
import { exitStatusFor } from '../common/exit.js';
import { loadApiTokens } from './auth/load.js';
import { cancelPublisher } from './cancel.js';
import { taskPublisher } from './publish.js';
import { buildServer } from './server.js';
import { openStore } from './store/open.js';

await runDaemon('taskqueue-api', async ({ config, log, exit }) => {
  const api = config.api;
  // Before anything else: a tokens file or store that cannot work stops the daemon at once (78).
  let tokens = loadApiTokens(api, log);
  const store = await openStore(api.store);
  await store.migrate();
  const connection = new AmqpConnection(config.amqp, {
    name: 'taskqueue-api',
    logger: log,
    setup: (channel) => declareQueue(channel, config.dispatcher.queue, config.amqp.queueType),
  });
  connection.on('fatal', (err) => {
    log.fatal({ code: err.code }, err.message);
    exit(exitStatusFor(err));
  });
  const server = await buildServer({
    store,
    publish: taskPublisher(connection, config.dispatcher.queue),
    cancel: cancelPublisher(connection),
    tokens: () => tokens,
    loopbackWithoutToken: api.loopbackWithoutToken,
    maxBodySize: api.maxBodySize,
    maxReplyWait: api.maxReplyWait,
    log,
  });
  try {
    await server.listen({ host: api.listen.host, port: api.listen.port });
  } catch (err) {
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
  return {
    // Submits before the broker is reached are answered TQ_ERR_API_PUBLISH (503): reads work.
    ready: connection.start(),
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
      await connection.close();
      await store.close();
    },
  };
});
