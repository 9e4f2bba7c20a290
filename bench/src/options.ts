import { parseArgs } from 'node:util';
import { parseSystems, SYSTEM_KINDS, type SystemKind } from './system-kinds.js';

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
  return {
    quick,
    tasks: Math.round(positive('tasks', values.tasks, quick ? 3000 : 20_000)),
    rounds: Math.round(positive('rounds', values.rounds, 3)),
    only: values.only?.split(',').map((s) => s.trim()),
    soakSeconds,
    rate: values.rate === undefined ? undefined : positive('rate', values.rate, 0),
    warmupSeconds,
    systems: parseSystems(values.systems ?? (quick ? 'ceiling,taskqueue' : SYSTEM_KINDS.join(','))),
  };
}
