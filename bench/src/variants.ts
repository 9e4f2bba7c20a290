import type { QueueType } from './amqp.js';

/** What one row of the bench varies: children K, prefetch W, payload, in-flight window. */
export interface Variant {
  name: string;
  /** Worker processes (ceiling) or children (taskqueue). */
  k: number;
  /** Per-worker prefetch (taskqueue: the type section's `prefetch`). */
  w: number;
  payloadBytes: number;
  /** Tasks in flight at most; 1 measures the unloaded round trip. */
  window: number;
  tasks: number;
  rounds: number;
  /** The dispatcher's (and the ceiling relay's) prefetch. */
  relayPrefetch: number;
  /**
   * Tasks published straight to `worker_<type>`: the worker stage alone, the dispatcher and the
   * relay idle. Its CPU per task is the children's against the ceiling workers', with no
   * dispatcher or relay on the same two cores to blur it.
   */
  direct?: boolean;
  /**
   * `[tracking] enabled = yes`, with the real tracker (tracker-sink.ts) consuming the events into
   * a store that keeps nothing: the cost of tracking to the dispatcher and the children, and the
   * broker's work for the events, against the same ceiling (which tracks nothing).
   */
  tracking?: boolean;
  /**
   * Tasks submitted through `taskqueue-api` (its SQLite store, its tracker, tracking on) by this
   * many concurrent HTTP clients instead of published to the input queue (api-load.ts); the
   * ceiling's rounds are the same as ever, so the ratio is the API's whole path against it.
   */
  apiClients?: number;
  /**
   * taskqueue's direct path: the load publishes to the types exchange with the type as routing
   * key (mandatory), as a client that knows the type does; the pool binds `worker_<type>` there.
   */
  path?: boolean;
  /** The anchors (one-hop limit, Celery, BullMQ) run in this variant too, when chosen. */
  anchored?: boolean;
  /**
   * `quorum`: taskqueue with `[amqp] queue_type = quorum`, against a ceiling whose queues are
   * quorum too (declared with taskqueue's arguments). Absent: classic. Named `<variant>-quorum`.
   */
  queueType?: QueueType;
  /**
   * Set up for large tasks as docs/configuration.md says: the type's `semi_space_size` (the
   * children's young generation, fixed) and the dispatcher's drop-in that caps its young
   * generation there instead of at 2, in MiB.
   * Absent: the defaults (1 MiB a child, 2 the dispatcher). The ceiling's relay and workers run
   * with V8's own default, a semi-space that starts at 1 MiB and may grow to 16.
   */
  semiSpaceMiB?: number;
  /**
   * Tasks a taskqueue child holds (`prefetch`) while its plugin runs `w` at once
   * (`concurrency = w`): the next task is in hand when the plugin returns. The anchors run with
   * `w` as ever (BullMQ's worker fetches its next job in the call that completes one).
   */
  inHand?: number;
}

export interface Plan {
  tasks: number;
  rounds: number;
  quick: boolean;
}

/** Enough in flight to keep every stage busy: relay prefetch 100 plus K × W at most 40. */
const LOADED_WINDOW = 1000;
const RELAY_PREFETCH = 100;
/** Concurrent HTTP clients of the -api variant: enough to keep the API's publishes pipelined. */
const API_CLIENTS = 32;

function variant(
  name: string,
  k: number,
  w: number,
  extra: Partial<Variant> & Pick<Variant, 'tasks' | 'rounds'>,
): Variant {
  return {
    name,
    k,
    w,
    payloadBytes: 200,
    window: LOADED_WINDOW,
    relayPrefetch: RELAY_PREFETCH,
    ...extra,
  };
}

/**
 * All variants. 64 KiB tasks are fewer (each is written to disk three times by the broker) and
 * the round trip is measured one task at a time, so on fewer tasks too.
 */
export function allVariants({ tasks, rounds }: Plan): Variant[] {
  const big = Math.max(100, Math.round(tasks / 10));
  // Half the tasks, not fewer: a round trip at a time, 2000 tasks left a child compiling its
  // hot path through the measured part (bench/FINDINGS.md, issue 31).
  const rtt = Math.max(100, Math.min(10_000, Math.round(tasks / 2)));
  return [
    variant('k2-w1', 2, 1, { tasks, rounds, anchored: true }),
    variant('k2-w10', 2, 10, { tasks, rounds, anchored: true }),
    variant('k2-w1-path', 2, 1, { tasks, rounds, path: true, anchored: true }),
    variant('k2-w10-path', 2, 10, { tasks, rounds, path: true, anchored: true }),
    variant('k2-w1-path-ahead', 2, 1, { tasks, rounds, path: true, anchored: true, inHand: 2 }),
    variant('k1-w1', 1, 1, { tasks, rounds }),
    variant('k1-w10', 1, 10, { tasks, rounds }),
    variant('k4-w1', 4, 1, { tasks, rounds }),
    variant('k4-w10', 4, 10, { tasks, rounds }),
    variant('k2-w10-1k', 2, 10, { tasks, rounds, payloadBytes: 1024 }),
    variant('k2-w10-64k', 2, 10, { tasks: big, rounds, payloadBytes: 65536, window: 200 }),
    variant('k2-w10-64k-8m', 2, 10, {
      tasks: big,
      rounds,
      payloadBytes: 65536,
      window: 200,
      semiSpaceMiB: 8,
    }),
    variant('k2-w1-rtt', 2, 1, { tasks: rtt, rounds, window: 1 }),
    variant('k1-w1-direct', 1, 1, { tasks, rounds, direct: true }),
    variant('k1-w10-direct', 1, 10, { tasks, rounds, direct: true }),
    variant('k2-w1-tracking', 2, 1, { tasks, rounds, tracking: true }),
    variant('k2-w10-tracking', 2, 10, { tasks, rounds, tracking: true }),
    variant('k2-w10-api', 2, 10, { tasks, rounds, tracking: true, apiClients: API_CLIENTS }),
  ];
}

/** --quick: the two main variants with every round, the round trip and 64 KiB briefly. */
export function quickVariants(plan: Plan): Variant[] {
  const all = new Map(allVariants(plan).map((v) => [v.name, v]));
  const pick = (name: string, change: Partial<Variant> = {}) => ({ ...all.get(name)!, ...change });
  return [
    pick('k2-w1'),
    pick('k2-w10'),
    // 500 round trips at N = 3000: a p99 of fewer is one or two slow samples.
    pick('k2-w1-rtt', { tasks: Math.max(100, Math.round(plan.tasks / 6)) }),
    pick('k2-w10-64k', { rounds: 1 }),
    pick('k2-w10-tracking'),
  ];
}

const QUORUM_SUFFIX = '-quorum';

/** The same variant on `queueType` queues (named `<base>-quorum` on quorum). */
export function onQueueType(v: Variant, queueType: QueueType): Variant {
  const base = v.name.endsWith(QUORUM_SUFFIX) ? v.name.slice(0, -QUORUM_SUFFIX.length) : v.name;
  const { queueType: _, ...rest } = v;
  if (queueType === 'classic') return { ...rest, name: base };
  return { ...rest, name: `${base}${QUORUM_SUFFIX}`, queueType };
}

/** Every variant on each of `queueTypes` (--queue-type), in order, each name once. */
export function onQueueTypes(variants: Variant[], queueTypes: QueueType[]): Variant[] {
  const out = new Map<string, Variant>();
  for (const v of variants) {
    for (const type of queueTypes) {
      const twin = onQueueType(v, type);
      if (!out.has(twin.name)) out.set(twin.name, twin);
    }
  }
  return [...out.values()];
}

/** The variants of a plan, narrowed by --only (any variant's name, quick or not, or `-quorum`). */
export function selectVariants(plan: Plan, only: string[] | undefined): Variant[] {
  if (!only) return plan.quick ? quickVariants(plan) : allVariants(plan);
  const all = new Map(
    allVariants(plan).flatMap((v) => {
      const quorum = onQueueType(v, 'quorum');
      return [
        [v.name, v],
        [quorum.name, quorum],
      ] as [string, Variant][];
    }),
  );
  return only.map((name) => {
    const found = all.get(name);
    if (!found) throw new Error(`unknown variant ${name}; known: ${[...all.keys()].join(', ')}`);
    return found;
  });
}
