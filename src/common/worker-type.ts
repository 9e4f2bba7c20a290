/**
 * The worker type grammar, in one place for every path a type comes in by: the dispatcher's
 * route, the config's sections and lists, plugin package names and `taskqueue submit`.
 *
 * A type names the queue `worker_<type>`, and the system derives its own queues from that name
 * with dot-suffixes (`worker_<t>.dead`, `worker_<t>.retry.<ms>ms`, `<input>.invalid`). A type
 * with such a segment would name a queue the system uses for another purpose (`flaky.dead` is
 * flaky's dead-letter queue; `flaky.retry.2000ms`, declared without its TTL, holds flaky's
 * retries forever), so those segments are reserved after a dot, in any case. The first segment
 * is free: `worker_retry` is no queue of the system.
 */

/**
 * SPEC §1's characters and length of a type, unanchored: for a pattern that embeds a type (the
 * plugin package names of discovery/package-info.ts), so that it does not cut it out of
 * WORKER_TYPE_PATTERN's source.
 */
export const WORKER_TYPE_CHARS = '[A-Za-z0-9][A-Za-z0-9_.-]{0,200}';

/** SPEC §1: the characters and length of a type. */
export const WORKER_TYPE_PATTERN = new RegExp(`^${WORKER_TYPE_CHARS}$`);

/**
 * Dot-separated segments no type may have: the system's queue suffixes, and `delay`/`delayed`
 * for delayed tasks to come.
 */
export const RESERVED_TYPE_SEGMENTS: readonly string[] = [
  'dead',
  'retry',
  'invalid',
  'unroutable',
  'delay',
  'delayed',
];

const RESERVED = new Set(RESERVED_TYPE_SEGMENTS);

/** The rule in words, for messages, parked reasons and the README. */
export const WORKER_TYPE_RULE =
  `${WORKER_TYPE_PATTERN.source}, with no segment after a dot that is one of ` +
  `${RESERVED_TYPE_SEGMENTS.join(', ')} (any case)`;

/** Why `type` is not a worker type, or undefined when it is one. */
export function workerTypeProblem(type: string): string | undefined {
  if (!WORKER_TYPE_PATTERN.test(type)) {
    return `${shown(type)} does not match ${WORKER_TYPE_PATTERN.source}`;
  }
  // Most types have no dot: no split, no allocation on the dispatcher's path.
  if (!type.includes('.')) return undefined;
  for (const segment of type.split('.').slice(1)) {
    if (RESERVED.has(segment.toLowerCase())) {
      return (
        `${shown(type)} has the reserved segment "${segment}" (the system's own queues end in ` +
        `.${RESERVED_TYPE_SEGMENTS.join(', .')})`
      );
    }
  }
  return undefined;
}

export function isWorkerType(type: string): boolean {
  return workerTypeProblem(type) === undefined;
}

function shown(type: string): string {
  return JSON.stringify(type.slice(0, 60)) + (type.length > 60 ? '…' : '');
}
