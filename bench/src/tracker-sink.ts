/**
 * The tracker of a tracking variant: taskqueue's own Tracker (dist/api/tracker/, loaded from the
 * taskqueue under test) consuming `taskqueue.tracker` into a store that keeps nothing, so that
 * the events are parsed, applied and acked as taskqueue-api would, minus the store's own cost
 * (the SQLite store's is measured with it, at merge).
 *
 *   node tracker-sink.js AMQP_URL TASKQUEUE_DIR [classic|quorum]
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { queueTypeArgument } from './amqp.js';

const [url, dir, queueTypeArg] = process.argv.slice(2);
if (!url || !dir) throw new Error('usage: tracker-sink.js AMQP_URL TASKQUEUE_DIR [QUEUE_TYPE]');
// The config's queue_type, as taskqueue-api's tracker would read it: it declares its queues so.
const queueType = queueTypeArgument(queueTypeArg);
const load = (path: string) => import(pathToFileURL(join(dir, 'dist', path)).href);
const { Tracker } = await load('api/tracker/tracker.js');
const { createLogger } = await load('common/logger.js');

// applyBatch: the tracker's way since it applies the events in hand together (older ones: apply).
const store = {
  apply: async () => true,
  applyBatch: async (events: unknown[]) => events.map(() => true),
};
const tracker = new Tracker({
  amqp: {
    urls: [url],
    heartbeat: 30,
    tls: { ca: undefined, cert: undefined, key: undefined },
    queueType,
    connectRetries: 5,
  },
  store,
  log: createLogger('bench-tracker', 'info'),
});
await tracker.start();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void tracker.stop().then(() => process.exit(0));
  });
}
