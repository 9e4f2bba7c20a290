import type { BaseWorker } from '@taskqueue/plugin-api';
import { ExitStatus } from '../../common/exit.js';
import { createLogger, type Logger } from '../../common/logger.js';
import { openPoolChannel } from '../channel.js';
import { loadWorker } from '../discovery/load.js';
import { readPluginPackage } from '../discovery/package-info.js';
import type { ChildMessage, ChildSpec, ParentMessage } from '../ipc.js';
import { poolLink } from './pool-link.js';
import { StatsReporter } from './stats-reporter.js';
import { verifyIdentity } from './verify-identity.js';
import { WorkerRuntime } from './worker-runtime.js';

/** Exit status of a child that could not start (the pool does not count it as a task crash). */
export const EXIT_STARTUP_FAILED = 3;
/** Drain time on a SIGTERM that did not come through the pool (its stop message says how long). */
const DEFAULT_GRACE_MS = 30_000;

/** To and from the pool; undefined in a child started by hand. */
const pool = openPoolChannel<ParentMessage, ChildMessage>();
/** What the child's tasks did, for the pool's metrics; nobody to tell without a pool. */
const stats = pool && new StatsReporter((message, sent) => pool.send(message, sent));

/**
 * Where the child's entry is. A stop may come at any time, even while the plugin loads or the
 * child connects: while `loading` there is nothing to drain and the child leaves at once once the
 * plugin is set up; once `running`, the runtime drains. `stopping` is final: a second stop is
 * ignored.
 */
type Entry =
  | { state: 'loading' }
  | { state: 'running'; runtime: WorkerRuntime }
  | { state: 'stopping' };
let entry: Entry = { state: 'loading' };

/** Read through a call: a stop may have come in while the entry awaited. */
function stopRequested(): boolean {
  return entry.state === 'stopping';
}

function send(message: ChildMessage): void {
  pool?.send(message);
}

/**
 * The entry of a worker child, forked by the pool. Order matters: switch user before any plugin
 * code loads, then load, `setup`, consume, and only then tell the pool `ready`.
 */
async function startChild(spec: ChildSpec): Promise<void> {
  const log = createLogger('taskqueue-worker', spec.logLevel).child({
    group: spec.group.name,
    type: spec.group.type,
  });
  let worker: BaseWorker;
  try {
    if (spec.identity) verifyIdentity(spec.identity);
    const plugin = readPluginPackage(spec.pluginDir);
    worker = await loadWorker(plugin, spec.acceptedApi);
    await worker.setup?.call(worker, {
      type: spec.group.type,
      instance: spec.group.instance,
      settings: spec.group.settings,
      logger: log,
    });
  } catch (err) {
    failStartup(log, err);
    return;
  }
  if (stopRequested()) process.exit(ExitStatus.OK); // told to stop while the plugin set up
  const runtime = new WorkerRuntime(
    spec,
    worker,
    log,
    poolLink(pool, (err) =>
      log.error({ err: err.message }, 'cannot tell the pool which tasks this child holds'),
    ),
    stats,
  );
  entry = { state: 'running', runtime };
  runtime.on('recycle', (reason: string) => send({ kind: 'recycle', reason }));
  runtime.on('retired', () => requestStop(DEFAULT_GRACE_MS));
  runtime.connection.on('fatal', (err: Error & { code?: string }) => {
    log.fatal({ code: err.code }, err.message);
    process.exit(ExitStatus.UNAVAILABLE);
  });
  try {
    await runtime.start();
  } catch (err) {
    if (!stopRequested()) failStartup(log, err); // else: the stop closed it
    return;
  }
  send({ kind: 'ready' });
}

function failStartup(log: Logger, err: unknown): void {
  const code = (err as { code?: string }).code ?? 'TQ_ERR_PLUGIN_SETUP';
  const message = (err as Error)?.message ?? String(err);
  log.fatal({ code, err }, `child failed to start: ${message}`);
  process.exitCode = EXIT_STARTUP_FAILED;
  // Close once the message is out; the channel's close then ends the child with this exit code.
  pool?.send({ kind: 'fatal', code, message }, () => pool.close());
}

// The pool coordinates stopping: a Ctrl-C on the terminal reaches the whole process group, and
// the child must then drain with the pool instead of dying mid-task.
process.on('SIGINT', () => {});
// Without the pool nobody supervises this child: leave at once, the broker redelivers its tasks.
pool?.on('close', () => process.exit());

/** loading → stopping (the entry exits once the plugin is set up), running → stopping (drains). */
function requestStop(graceMs: number): void {
  const before = entry;
  if (before.state === 'stopping') return;
  entry = { state: 'stopping' };
  if (before.state === 'running') void stopRuntime(before.runtime, graceMs);
}

async function stopRuntime(runtime: WorkerRuntime, graceMs: number): Promise<void> {
  await runtime.stop(graceMs);
  await stats?.flush();
  process.exit(ExitStatus.OK);
}

process.on('SIGTERM', () => requestStop(DEFAULT_GRACE_MS));
pool?.on('message', (message: ParentMessage) => {
  if (message.kind === 'start') void startChild(message.spec);
  else if (message.kind === 'stop') requestStop(message.graceMs);
});
