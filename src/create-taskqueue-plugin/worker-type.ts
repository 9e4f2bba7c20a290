/**
 * The worker type grammar of taskqueue (its src/common/worker-type.ts), copied: this package is
 * published on its own and runs before any taskqueue is installed, so it cannot import the
 * host's module, and bundling the host for ten lines would be the larger risk. A unit test
 * (test/unit/scaffold/worker-type-copy.test.ts) holds the copy to the original.
 */

/** The characters and length of a type. */
export const WORKER_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$/;

/** Segments after a dot that name the system's own queues (`worker_<type>.dead`, …). */
export const RESERVED_TYPE_SEGMENTS: readonly string[] = [
  'dead',
  'retry',
  'invalid',
  'unroutable',
  'delay',
  'delayed',
];

/** Why `type` is not a worker type, or undefined when it is one. */
export function workerTypeProblem(type: string): string | undefined {
  if (!WORKER_TYPE_PATTERN.test(type)) {
    return `${JSON.stringify(type)} does not match ${WORKER_TYPE_PATTERN.source}`;
  }
  for (const segment of type.split('.').slice(1)) {
    if (RESERVED_TYPE_SEGMENTS.includes(segment.toLowerCase())) {
      return (
        `${JSON.stringify(type)} has the reserved segment "${segment}" (the system's own ` +
        `queues end in .${RESERVED_TYPE_SEGMENTS.join(', .')})`
      );
    }
  }
  return undefined;
}
