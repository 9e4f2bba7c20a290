/**
 * The systems a run can measure (`--systems`): the ceiling and taskqueue, and the anchors that
 * place them among what users compare with (bench/README.md, _Anchors_).
 */
export const SYSTEM_KINDS = [
  'ceiling',
  'taskqueue',
  'onehop',
  'celery',
  'bullmq-everysec',
  'bullmq-always',
] as const;

export type SystemKind = (typeof SYSTEM_KINDS)[number];

/** Systems other than taskqueue and its relay ceiling: taskqueue's ratio to each is printed. */
export const ANCHORS: readonly SystemKind[] = [
  'onehop',
  'celery',
  'bullmq-everysec',
  'bullmq-always',
];

export function isSystemKind(name: string): name is SystemKind {
  return (SYSTEM_KINDS as readonly string[]).includes(name);
}

/** `--systems a,b,c`: known names, none twice, in the order of SYSTEM_KINDS (the rounds' order). */
export function parseSystems(list: string): SystemKind[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new Error('--systems needs at least one system');
  for (const name of names) {
    if (!isSystemKind(name))
      throw new Error(`unknown system ${name}; known: ${SYSTEM_KINDS.join(', ')}`);
  }
  return SYSTEM_KINDS.filter((kind) => names.includes(kind));
}

/**
 * The systems a variant measures, in round order: the chosen ones it applies to. The anchors run
 * only in the variants that name them (the main K=2 ones and the direct path's): the others
 * measure something (tracking, the API, 64 KiB...) that only taskqueue and its ceiling have. On
 * quorum queues only the one-hop limit stays: Celery declares its own classic queue, and BullMQ
 * has no RabbitMQ queue at all.
 */
export function systemsOf(
  chosen: readonly SystemKind[],
  anchored: boolean | undefined,
  queueType: 'classic' | 'quorum' = 'classic',
): SystemKind[] {
  return chosen.filter(
    (kind) =>
      !ANCHORS.includes(kind) || (anchored && (queueType === 'classic' || kind === 'onehop')),
  );
}
