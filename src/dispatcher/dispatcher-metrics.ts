import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { EVENT_LOOP_PRECISION_MS, registerBuildInfo } from '../common/metrics/build-info.js';
import type { Dispatcher } from './dispatcher.js';

/** What the dispatcher's registry reads (a Dispatcher; a stand-in in unit tests). */
export type DispatcherMetricsSource = Pick<Dispatcher, 'counts' | 'bytesInHand' | 'connection'>;

/**
 * The dispatcher's metrics (docs/metrics.md), in a registry of its own, read from its plain
 * counts at scrape time: the hot path adds to a number, never calls prom-client.
 */
export function dispatcherRegistry(dispatcher: DispatcherMetricsSource): Registry {
  const registry = new Registry();
  const registers = [registry];
  registerBuildInfo(registry);
  collectDefaultMetrics({
    register: registry,
    eventLoopMonitoringPrecision: EVENT_LOOP_PRECISION_MS,
  });
  const { counts } = dispatcher;
  let connected = 0;
  dispatcher.connection.on('connected', () => {
    connected = 1;
  });
  dispatcher.connection.on('disconnected', () => {
    connected = 0;
  });
  new Counter({
    name: 'taskqueue_dispatcher_tasks_received_total',
    help: 'Tasks taken from the input queue (a delivery handed back over the byte budget is not).',
    registers,
    collect() {
      this.reset();
      this.inc(counts.received);
    },
  });
  new Counter({
    name: 'taskqueue_dispatcher_tasks_forwarded_total',
    help: 'Tasks forwarded to worker_<type>, by type (type="*": types past the first 100 when [dispatcher] types = *).',
    labelNames: ['type'] as const,
    registers,
    collect() {
      this.reset();
      for (const [type, n] of counts.forwarded) this.inc({ type }, n);
    },
  });
  new Counter({
    name: 'taskqueue_dispatcher_tasks_parked_total',
    help: 'Tasks parked on <queue>.invalid, by the TQ_ERR_* code of the reason.',
    labelNames: ['reason'] as const,
    registers,
    collect() {
      this.reset();
      for (const [reason, n] of counts.parked) this.inc({ reason }, n);
    },
  });
  new Gauge({
    name: 'taskqueue_dispatcher_connected',
    help: '1 while the dispatcher has a channel to the broker, else 0.',
    registers,
    collect() {
      this.set(connected);
    },
  });
  new Gauge({
    name: 'taskqueue_dispatcher_bytes_in_hand',
    help: 'Bytes of tasks received and not yet settled ([dispatcher] max_bytes_in_flight bounds it).',
    registers,
    collect() {
      this.set(dispatcher.bytesInHand);
    },
  });
  return registry;
}
