/**
 * The Celery anchor: Debian's python3-celery (/usr/bin/python3, not a pyenv shim), one worker of
 * K prefork processes on the run's RabbitMQ node, acks late, publisher confirms, prefetch K × W,
 * results through the `rpc://` backend to the bench's `results` queue (celery_worker.py).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workerQueue } from '../amqp.js';
import { Load } from '../load.js';
import { childrenOf, commandLine } from '../proc-sampler.js';
import { adopt } from '../processes.js';
import { environment, launch, type System, type SystemContext, started } from '../systems.js';
import type { Variant } from '../variants.js';
import { TYPE } from '../workitem.js';
import { CELERY_FRAMING } from './celery-framing.js';

export const CELERY_PYTHON = '/usr/bin/python3';
/** The worker module stays in the source tree (tsc does not copy it): bench/src/anchors/. */
const MODULE_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../src/anchors');

/** Why Celery cannot run here, or undefined: checked before any round starts. */
export function celeryMissing(): string | undefined {
  try {
    execFileSync(CELERY_PYTHON, ['-c', 'import celery, amqp'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return (
      `celery: ${CELERY_PYTHON} cannot import celery; ` +
      'install it with apt-get install -y --no-install-recommends python3-celery'
    );
  }
}

export async function startCelery(ctx: SystemContext, v: Variant): Promise<System> {
  const env = environment();
  delete env.PYTHONPATH;
  Object.assign(env, {
    BENCH_CELERY_BROKER: ctx.url,
    BENCH_CELERY_PREFETCH: `${v.w}`,
    PYTHONDONTWRITEBYTECODE: '1',
  });
  const worker = launch(
    ctx,
    'celery',
    [
      '-m',
      'celery',
      '--workdir',
      MODULE_DIR,
      '-A',
      'celery_worker',
      'worker',
      '--pool=prefork',
      `--concurrency=${v.k}`,
      `--loglevel=${process.env.BENCH_CELERY_LOGLEVEL ?? 'WARNING'}`,
      '--without-gossip',
      '--without-mingle',
      '--without-heartbeat',
      '-n',
      `bench-${process.pid}@%h`,
    ],
    env,
    CELERY_PYTHON,
  );
  // One consumer, the main process; its pool processes receive the tasks through pipes.
  const { failed, stop } = await started(ctx, 'celery', [worker], { [workerQueue(TYPE)]: 1 });
  const pool = childrenOf(worker.pid)
    .filter((pid) => commandLine(pid).includes('celery'))
    .sort((a, b) => a - b);
  for (const pid of pool) adopt(pid, 'celery');
  if (pool.length !== v.k) {
    await stop();
    throw new Error(
      `celery: ${pool.length} pool processes, expected ${v.k}; see ${worker.logFile}`,
    );
  }
  return {
    kind: 'celery',
    roles: new Map([
      ['celery', worker.pid],
      ...pool.map((pid, i) => [`pool${i + 1}`, pid] as [string, number]),
    ]),
    failed,
    logFiles: [worker.logFile],
    stop,
    // Straight to the queue Celery consumes, as apply_async publishes: Celery has no relay.
    queue: workerQueue(TYPE),
    openLoad: () => Load.open(ctx.url, CELERY_FRAMING),
  };
}
