/**
 * The BullMQ anchors: a private redis-server (AOF, `appendfsync everysec` or `always`), K worker
 * processes of concurrency W with the processor sandboxed (so K × W sandbox processes once
 * warm: a sandboxed job runs alone in its child), the load through Queue.add and QueueEvents.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Load } from '../load.js';
import { childrenOf, commandLine } from '../proc-sampler.js';
import { adopt, type Launched, unlessFailed } from '../processes.js';
import { launch, type System, type SystemContext, started } from '../systems.js';
import type { Variant } from '../variants.js';
import { READY_LINE } from './bullmq-names.js';
import { BullmqTransport } from './bullmq-transport.js';
import { type Fsync, startRedis } from './redis-server.js';

const WORKER = fileURLToPath(new URL('./bullmq-worker.js', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
/** What identifies a sandbox in /proc/PID/cmdline: BullMQ forks its own main.js. */
const SANDBOX_ENTRY = 'bullmq/dist';

/** Why BullMQ cannot run here, or undefined: checked before any round starts. */
export function bullmqMissing(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    require.resolve('bullmq');
    require.resolve('ioredis');
    return undefined;
  } catch {
    return 'bullmq: the bullmq and ioredis packages are missing; run npm install (devDependencies)';
  }
}

async function untilReady(workers: Launched[], failed: Promise<never>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const ready = (w: Launched) =>
    existsSync(w.logFile) && readFileSync(w.logFile, 'utf8').includes(READY_LINE);
  const poll = async () => {
    while (!workers.every(ready)) {
      if (Date.now() > deadline)
        throw new Error(`BullMQ workers not ready after ${READY_TIMEOUT_MS} ms`);
      await sleep(50);
    }
  };
  await unlessFailed(poll(), failed);
}

export async function startBullmq(ctx: SystemContext, v: Variant, fsync: Fsync): Promise<System> {
  const kind = fsync === 'always' ? 'bullmq-always' : 'bullmq-everysec';
  const redis = await startRedis(ctx, fsync);
  const workers = Array.from({ length: v.k }, (_, i) =>
    launch(ctx, `bullworker${i + 1}`, [WORKER, `${redis.port}`, `${v.w}`]),
  );
  const all = [redis.process, ...workers];
  const { failed, stop: stopAll } = await started(ctx, kind, all, {});
  // The workers first: a worker closing against a stopped Redis waits for it.
  const stop = async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await stopAll();
  };
  try {
    await untilReady(workers, failed);
  } catch (err) {
    await stop();
    throw new Error(`${kind} did not start: ${(err as Error).message}`);
  }
  const workerRoles = workers.map((w) => [w.name, w.pid] as [string, number]);
  return {
    kind,
    roles: new Map(workerRoles),
    failed,
    logFiles: all.map((p) => p.logFile),
    stop,
    openLoad: async () => new Load(await BullmqTransport.open(redis.port)),
    brokerPids: () => [redis.process.pid],
    // The sandboxes are forked as jobs come: after the warm-up, up to W under each worker.
    rolesAfterWarmUp: () => {
      const roles = new Map(workerRoles);
      workers.forEach((w, i) => {
        const sandboxes = childrenOf(w.pid)
          .filter((pid) => commandLine(pid).includes(SANDBOX_ENTRY))
          .sort((a, b) => a - b);
        sandboxes.forEach((pid, j) => {
          adopt(pid, SANDBOX_ENTRY);
          roles.set(`sandbox${i + 1}.${j + 1}`, pid);
        });
      });
      return roles;
    },
  };
}
