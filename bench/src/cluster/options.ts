/** The command line of `npm run bench:cluster`. */
import { MAX_HOSTS } from './network.js';

export type PathName = 'dispatcher' | 'direct';

export interface ClusterOptions {
  tasks: number;
  rounds: number;
  /** Cluster sizes to measure, ascending: the cluster grows from one to the next. */
  hosts: number[];
  /** Children per host (perHost), or in total, spread over the hosts. */
  k: number;
  kMode: 'per-host' | 'total';
  w: number;
  window: number;
  payloadBytes: number;
  paths: PathName[];
  /** Erlang's schedulers spin a while before they sleep (the default); off: CPU is work only. */
  busyWait: boolean;
}

export const USAGE = `npm run bench:cluster -- [options]
  --tasks N          measured tasks per round (default 20000)
  --rounds R         rounds per cluster size; each round runs every path (default 3)
  --hosts 1,2,3      cluster sizes, ascending (default 1,2,3; at most ${MAX_HOSTS})
  --k N              pool children per host (default 2)
  --k-total          --k is the total over all hosts instead (spread evenly)
  --w N              prefetch of each child (default 10)
  --window N         tasks in flight in total (default 1000)
  --payload BYTES    task size (default 200)
  --paths LIST       dispatcher,direct (default both): through the input queue and the
                     dispatcher, or straight to the worker queue (taskqueue.types if a build
                     has it, else worker_echo by the default exchange)`;

function integer(flag: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} wants an integer ≥ ${min}`);
  return n;
}

/** Undefined for --help. */
export function parseClusterOptions(argv: string[]): ClusterOptions | undefined {
  const o: ClusterOptions = {
    tasks: 20_000,
    rounds: 3,
    hosts: [1, 2, 3],
    k: 2,
    kMode: 'per-host',
    w: 10,
    window: 1000,
    payloadBytes: 200,
    paths: ['dispatcher', 'direct'],
    busyWait: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => argv[++i];
    switch (flag) {
      case '--help':
      case '-h':
        return undefined;
      case '--tasks':
        o.tasks = integer(flag, value(), 1);
        break;
      case '--rounds':
        o.rounds = integer(flag, value(), 1);
        break;
      case '--hosts':
        o.hosts = (value() ?? '').split(',').map((h) => integer(flag, h, 1));
        if (o.hosts.some((h, j) => h > MAX_HOSTS || (j > 0 && h <= o.hosts[j - 1]!)))
          throw new Error(`--hosts wants ascending sizes from 1 to ${MAX_HOSTS}`);
        break;
      case '--k':
        o.k = integer(flag, value(), 1);
        break;
      case '--k-total':
        o.kMode = 'total';
        break;
      case '--w':
        o.w = integer(flag, value(), 1);
        break;
      case '--window':
        o.window = integer(flag, value(), 1);
        break;
      case '--payload':
        o.payloadBytes = integer(flag, value(), 100);
        break;
      case '--no-busy-wait':
        o.busyWait = false;
        break;
      case '--paths': {
        const paths = (value() ?? '').split(',');
        if (!paths.length || paths.some((p) => p !== 'dispatcher' && p !== 'direct'))
          throw new Error('--paths wants dispatcher, direct or both');
        o.paths = paths as PathName[];
        break;
      }
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  if (o.kMode === 'total' && o.k < Math.max(...o.hosts))
    throw new Error('--k-total needs --k of at least the largest cluster size');
  return o;
}

/** Children of host i (0-based) of n: K each, or the total spread as evenly as it goes. */
export function childrenOfHost(o: ClusterOptions, n: number, i: number): number {
  if (o.kMode === 'per-host') return o.k;
  return Math.floor(o.k / n) + (i < o.k % n ? 1 : 0);
}
