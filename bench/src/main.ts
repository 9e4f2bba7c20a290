/**
 * `npm run bench`: taskqueue against a plain-amqplib ceiling on the same private broker, or a
 * soak of taskqueue alone. See bench/README.md.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingFor } from './anchors/requirements.js';
import { type Broker, openBroker } from './broker.js';
import { runMatrix } from './matrix.js';
import { parseOptions, USAGE } from './options.js';
import { killAllNow, stopAll } from './processes.js';
import { ResultsFile } from './results.js';
import type { BenchContext } from './run.js';
import { runSoak } from './soak.js';
import { systemsOf } from './system-kinds.js';
import { TASKQUEUE_DIR } from './systems.js';
import { onQueueTypes, selectVariants } from './variants.js';

const log = (line: string) => console.log(line);
/** A usage error: said in one line, exit 2, before anything starts. */
function usageError(err: unknown): never {
  console.error(`${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}

let parsed: ReturnType<typeof parseOptions>;
try {
  parsed = parseOptions(process.argv.slice(2));
} catch (err) {
  usageError(err);
}
const options = parsed;
if (!options) {
  console.log(USAGE);
  process.exit(0);
}
for (const program of ['dispatcher', 'workerpool']) {
  if (!existsSync(join(TASKQUEUE_DIR, `dist/${program}/main.js`))) {
    console.error(`${TASKQUEUE_DIR}/dist/${program}/main.js is missing: run npm run build first`);
    process.exit(1);
  }
}
const plan = { tasks: options.tasks, rounds: options.rounds, quick: options.quick };
let variants: ReturnType<typeof selectVariants>;
try {
  variants = selectVariants(plan, options.only);
  if (options.queueTypes) variants = onQueueTypes(variants, options.queueTypes);
} catch (err) {
  usageError(err);
}
// Only the systems some selected variant measures (the anchors run in a few).
const measured = options.soakSeconds
  ? []
  : options.systems.filter((kind) =>
      variants.some((v) => systemsOf(options.systems, v.anchored, v.queueType).includes(kind)),
    );
if (!options.soakSeconds && measured.length === 0)
  usageError(
    new Error(
      `no selected variant measures ${options.systems.join(', ')}: the anchors run in ` +
        'k2-w1, k2-w10, k2-w1-path and k2-w10-path',
    ),
  );
const missing = missingFor(measured);
if (missing.length > 0) {
  console.error(`cannot run every system asked for (--systems):\n  ${missing.join('\n  ')}`);
  process.exit(1);
}

let broker: Broker | undefined;
let interrupted = false;
const workDir = mkdtempSync(join(tmpdir(), 'tq-bench-'));

async function cleanup(): Promise<void> {
  await stopAll();
  await broker?.close().catch((err: Error) => log(`stopping the broker: ${err.message}`));
  broker = undefined;
}

// First Ctrl-C: stop everything in order. Second: SIGKILL by PID and leave.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      killAllNow();
      process.exit(130);
    }
    interrupted = true;
    log(`\n${signal}: stopping every process the bench started`);
    void cleanup().finally(() => {
      log(`logs kept in ${workDir}`);
      process.exit(130);
    });
  });
}
process.on('exit', killAllNow);

const started = Date.now();
let ok = false;
try {
  log(`taskqueue bench: logs and configs in ${workDir}`);
  broker = await openBroker((line) => log(`[broker] ${line}`), options.rabbitmq);
  log(`broker: ${broker.description}`);
  const ctx: BenchContext = { broker, workDir, log, interrupted: () => interrupted };
  const soak = options.soakSeconds;
  const mode = soak ? 'soak' : options.only ? 'only' : options.quick ? 'quick' : 'full';
  const results = new ResultsFile(mode, {
    broker: broker.description,
    taskqueue: TASKQUEUE_DIR,
    options,
    variants,
  });
  log(`raw rows: ${results.path}`);
  if (soak) {
    // The soak runs one configuration: --only's first variant, else the main one (K=2 W=1).
    ok = await runSoak(ctx, variants[0]!, soak, options, results);
  } else {
    log(`variants: ${variants.map((v) => v.name).join(', ')}`);
    log(`systems: ${options.systems.join(', ')}`);
    ok = await runMatrix(ctx, variants, results, options.systems);
  }
} catch (err) {
  if (!interrupted) log(`bench failed: ${(err as Error).stack ?? err}`);
} finally {
  if (!interrupted) {
    await cleanup();
    log(`\ntook ${((Date.now() - started) / 1000).toFixed(0)} s`);
    // BENCH_KEEP_LOGS: the programs' logs of a good run are wanted too (GC traces, bench/README).
    if (ok && !process.env.BENCH_KEEP_LOGS) rmSync(workDir, { recursive: true, force: true });
    else log(`logs kept in ${workDir}`);
    process.exitCode = ok ? 0 : 1;
  }
}
