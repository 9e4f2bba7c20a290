import { parseArgs } from 'node:util';
import { QUEUE_TYPES, type QueueType } from './amqp.js';
import { parseSystems, SYSTEM_KINDS, type SystemKind } from './system-kinds.js';

/** The private broker's RabbitMQ: the host's (bookworm, 3.10) or trixie's 4.0 in a chroot. */
export const RABBITMQ_VERSIONS = ['3.10', '4.0'] as const;
export type RabbitmqVersion = (typeof RABBITMQ_VERSIONS)[number];

export interface Options {
  quick: boolean;
  tasks: number;
  rounds: number;
  only: string[] | undefined;
  soakSeconds: number | undefined;
  rate: number | undefined;
  warmupSeconds: number | undefined;
  /** The systems each variant measures (the anchors only where the variant names them). */
  systems: SystemKind[];
  /** --queue-type: every variant of the run on each of these; undefined: as named. */
  queueTypes: QueueType[] | undefined;
  rabbitmq: RabbitmqVersion;
}

export const USAGE = `npm run bench -- [options]
  --quick          fewer variants and tasks (main variants still 3 interleaved rounds)
  --tasks N        tasks per measured run (default 20000, --quick 3000)
  --rounds R       interleaved rounds per variant (default 3)
  --only A,B       only these variants (see the list printed at start)
  --systems A,B    these systems, rounds interleaved in this order: ${SYSTEM_KINDS.join(',')}
                   (default all; --quick: ceiling,taskqueue)
  --soak SECONDS   run taskqueue at half its capacity for that long, report RSS
  --rate R         the soak's tasks/s (default: half the capacity, measured first)
  --warmup SECONDS the soak's growth counts from then (default: a third of the soak)
  --queue-type T   classic, quorum or classic,quorum: every variant on these queue types
                   (quorum ones are named <variant>-quorum; default: as named, i.e. classic)
  --rabbitmq V     the private broker: 3.10 (the host's, default) or 4.0 (Debian trixie's, in a
                   chroot built once under /var/cache/taskqueue-bench; needs root)
  --help`;

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

/** undefined for --help. */
export function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      tasks: { type: 'string' },
      rounds: { type: 'string' },
      only: { type: 'string' },
      soak: { type: 'string' },
      rate: { type: 'string' },
      warmup: { type: 'string' },
      systems: { type: 'string' },
      'queue-type': { type: 'string' },
      rabbitmq: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return undefined;
  const quick = values.quick === true;
  const soakSeconds = values.soak === undefined ? undefined : positive('soak', values.soak, 0);
  const warmupSeconds =
    values.warmup === undefined ? undefined : positive('warmup', values.warmup, 0);
  if (warmupSeconds !== undefined && (soakSeconds === undefined || warmupSeconds >= soakSeconds)) {
    throw new Error('--warmup needs a --soak longer than it');
  }
  const rabbitmq = values.rabbitmq ?? '3.10';
  if (!(RABBITMQ_VERSIONS as readonly string[]).includes(rabbitmq))
    throw new Error(`--rabbitmq ${rabbitmq}: expected ${RABBITMQ_VERSIONS.join(' or ')}`);
  return {
    quick,
    tasks: Math.round(positive('tasks', values.tasks, quick ? 3000 : 20_000)),
    rounds: Math.round(positive('rounds', values.rounds, 3)),
    only: values.only?.split(',').map((s) => s.trim()),
    soakSeconds,
    rate: values.rate === undefined ? undefined : positive('rate', values.rate, 0),
    warmupSeconds,
    systems: parseSystems(values.systems ?? (quick ? 'ceiling,taskqueue' : SYSTEM_KINDS.join(','))),
    queueTypes: values['queue-type'] === undefined ? undefined : queueTypes(values['queue-type']),
    rabbitmq: rabbitmq as RabbitmqVersion,
  };
}

function queueTypes(raw: string): QueueType[] {
  const types = raw.split(',').map((s) => s.trim());
  for (const t of types) {
    if (!(QUEUE_TYPES as readonly string[]).includes(t))
      throw new Error(`--queue-type ${t}: expected classic, quorum or classic,quorum`);
  }
  return [...new Set(types)] as QueueType[];
}
