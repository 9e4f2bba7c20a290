import type { IniDocument } from './parse.js';
import type { ProblemList } from './problems.js';
import { checkKnownKeys, tableReader } from './read.js';
import { DISPATCHER_KEYS, TRACKING_KEYS, WORKERPOOL_KEYS } from './schema.js';
import type { DispatcherConfig, TrackingConfig, WorkerpoolConfig } from './types.js';
import { SectionView } from './view.js';

/** [dispatcher] alone (not [DEFAULT], see fixed-defaults.ts). */
export function resolveDispatcher(doc: IniDocument, problems: ProblemList): DispatcherConfig {
  const view = new SectionView(doc, [doc.sections.get('dispatcher')], 'references-only');
  checkKnownKeys(view, 'dispatcher', DISPATCHER_KEYS, problems);
  const read = tableReader(view, DISPATCHER_KEYS, problems);
  return {
    queue: read('queue'),
    prefetch: read('prefetch'),
    maxBodySize: read('max_body_size'),
    maxBytesInFlight: read('max_bytes_in_flight'),
    types: read('types'),
    directPath: read('direct_path'),
    metrics: { listen: read('metrics_listen'), tokenFile: read('metrics_token_file') },
    statusSocket: read('status_socket'),
  };
}

/** [workerpool] alone (not [DEFAULT], see fixed-defaults.ts). */
export function resolveWorkerpool(doc: IniDocument, problems: ProblemList): WorkerpoolConfig {
  const view = new SectionView(doc, [doc.sections.get('workerpool')], 'references-only');
  checkKnownKeys(view, 'workerpool', WORKERPOOL_KEYS, problems);
  const read = tableReader(view, WORKERPOOL_KEYS, problems);
  return {
    pluginPaths: read('plugin_paths'),
    enabled: read('enabled'),
    shutdownTimeout: read('shutdown_timeout'),
    logLevel: read('log_level'),
    metrics: { listen: read('metrics_listen'), tokenFile: read('metrics_token_file') },
    statusSocket: read('status_socket'),
  };
}

/** [tracking] alone (not [DEFAULT]), read by the dispatcher, the pool and the API. */
export function resolveTracking(doc: IniDocument, problems: ProblemList): TrackingConfig {
  const view = new SectionView(doc, [doc.sections.get('tracking')], 'references-only');
  checkKnownKeys(view, 'tracking', TRACKING_KEYS, problems);
  const read = tableReader(view, TRACKING_KEYS, problems);
  return { enabled: read('enabled'), heartbeatInterval: read('heartbeat_interval') };
}
