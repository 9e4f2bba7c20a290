import { isDelayQueue } from '../../common/amqp/delay-names.js';
import {
  CANCELS_STREAM,
  deadQueue,
  invalidQueue,
  rateTokenQueue,
  retryQueue,
  TRACKER_INVALID_QUEUE,
  TRACKER_QUEUE,
  UNROUTABLE_RESULTS_QUEUE,
  workerQueue,
} from '../../common/amqp/queues.js';
import { isWorkerType } from '../../common/amqp/wire.js';
import type { Config } from '../../common/config/types.js';
import { retryDelayMs } from '../../workerpool/child/attempts.js';
import { discoverPlugins, pluginSearchPaths } from '../../workerpool/discovery/discovery.js';
import { delayQueueNames } from './delayed.js';

/** What a queue of the system is for, as `taskqueue queues` shows it. */
export type QueueRole =
  | 'input'
  | 'invalid'
  | 'worker'
  | 'dead'
  | 'retry'
  | 'delayed'
  | 'tokens'
  | 'results'
  | 'unroutable'
  | 'tracker'
  | 'cancels';

/** The names a passive look can ask for: those the config and the installed plugins let us know. */
export interface KnownQueue {
  name: string;
  role: QueueRole;
  /** Shown only when it exists (retry queues appear with the first retry of their delay). */
  optional: boolean;
}

/** The input queue, the results queues the groups name and the types to look at. */
export interface QueueNaming {
  input: string;
  results: string[];
  /** Each type with the retry delays (ms) its groups can use. */
  types: Map<string, number[]>;
  /** The types with a `rate_limit`: they have a token queue (docs/rate-limits.md). */
  rateLimited?: Set<string>;
}

/**
 * What the config says about queue names: the input queue, every type it names (sections,
 * `enabled`), the types of the installed plugins and `extraTypes`, with the retry delays their
 * groups' `retry_delay` and `max_attempts` lead to, and the results queues (a group's
 * `results_routing_key` when it publishes to the default exchange).
 */
export function queueNaming(
  config: Config,
  extraTypes: string[] = [],
  installed: () => string[] = () => installedTypes(config),
): QueueNaming {
  const { enabled } = config.workerpool;
  const named = [
    ...config.configuredTypes,
    ...(enabled === '*' ? installed() : enabled),
    ...extraTypes,
  ];
  const types = new Map<string, number[]>();
  const results = new Set<string>(['results']);
  const rateLimited = new Set<string>();
  for (const type of named) {
    if (!isWorkerType(type) || types.has(type)) continue;
    const delays = new Set<number>();
    for (const group of config.groupsFor(type)) {
      if (group.rateLimit !== undefined) rateLimited.add(type);
      if (group.resultsExchange === '') results.add(group.resultsRoutingKey);
      for (let attempt = 2; attempt <= group.maxAttempts; attempt++) {
        const delay = retryDelayMs(group.retryDelay, attempt);
        if (delay > 0) delays.add(delay);
      }
    }
    types.set(
      type,
      [...delays].sort((a, b) => a - b),
    );
  }
  return { input: config.dispatcher.queue, results: [...results], types, rateLimited };
}

/** Every name a passive look asks for, in the order shown. */
export function knownQueues(naming: QueueNaming): KnownQueue[] {
  const queues: KnownQueue[] = [
    { name: naming.input, role: 'input', optional: false },
    { name: invalidQueue(naming.input), role: 'invalid', optional: false },
  ];
  for (const [type, delays] of naming.types) {
    queues.push({ name: workerQueue(type), role: 'worker', optional: false });
    queues.push({ name: deadQueue(type), role: 'dead', optional: true });
    for (const delay of delays)
      queues.push({ name: retryQueue(type, delay), role: 'retry', optional: true });
    if (naming.rateLimited?.has(type))
      queues.push({ name: rateTokenQueue(type), role: 'tokens', optional: true });
  }
  // The delay ladder (docs/delays.md): shown grouped as one `delayed` row (delayed.ts).
  for (const name of delayQueueNames()) queues.push({ name, role: 'delayed', optional: true });
  for (const name of naming.results) queues.push({ name, role: 'results', optional: true });
  queues.push({ name: UNROUTABLE_RESULTS_QUEUE, role: 'unroutable', optional: true });
  // With [tracking] on: the events taskqueue-api's tracker reads (they pile up without it).
  queues.push({ name: TRACKER_QUEUE, role: 'tracker', optional: true });
  queues.push({ name: TRACKER_INVALID_QUEUE, role: 'tracker', optional: true });
  queues.push({ name: CANCELS_STREAM, role: 'cancels', optional: true });
  return queues;
}

/**
 * The role of a queue of the system by its name alone, or undefined for a queue that is not
 * ours: the input queue and its `.invalid`, `worker_<type>` with its `.dead` and retry queues for
 * any well-formed type (the retry queues of before the delay ladder still drain), the ladder's
 * level queues, a rate-limited type's token queue, the results queues `naming` knows and `taskqueue.unroutable`.
 */
export function roleOf(
  name: string,
  naming: Pick<QueueNaming, 'input' | 'results'>,
): QueueRole | undefined {
  if (name === naming.input) return 'input';
  if (name === invalidQueue(naming.input)) return 'invalid';
  if (name === UNROUTABLE_RESULTS_QUEUE) return 'unroutable';
  if (name === TRACKER_QUEUE || name === TRACKER_INVALID_QUEUE) return 'tracker';
  if (name === CANCELS_STREAM) return 'cancels';
  if (isDelayQueue(name)) return 'delayed';
  const tokens = /^taskqueue\.rate\.(.+)\.tokens$/.exec(name);
  if (tokens) return isWorkerType(tokens[1]!) ? 'tokens' : undefined;
  if (naming.results.includes(name)) return 'results';
  const prefix = workerQueue('');
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  const retry = /^(.+)\.retry\.[1-9][0-9]*ms$/.exec(rest);
  if (retry) return isWorkerType(retry[1]!) ? 'retry' : undefined;
  const dead = /^(.+)\.dead$/.exec(rest);
  if (dead) return isWorkerType(dead[1]!) ? 'dead' : undefined;
  return isWorkerType(rest) ? 'worker' : undefined;
}

function installedTypes(config: Config): string[] {
  return [...discoverPlugins(pluginSearchPaths(config.workerpool.pluginPaths)).plugins.keys()];
}
