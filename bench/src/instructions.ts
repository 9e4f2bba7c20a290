/**
 * `npm run bench:instructions -- ROLE [--warm-up N] [--tasks N] [--payload BYTES]`: the
 * instructions one process spends a task, counted by valgrind's callgrind. Unlike CPU time, the
 * count does not move with what else the machine does: a change of a few hundred instructions a
 * task shows, where throughput and CPU time scatter by ±7 % between runs on this 2-core machine.
 *
 * ROLE is the process counted, with the rest of its system running natively beside it:
 * `child` (a pool of one child, the pool and the child under callgrind, tasks straight to
 * `worker_echo`), `dispatcher` (tasks to `taskqueue`, the pool native), `ceiling-worker`,
 * `relay` (the ceiling's, its worker native). The system answers the warm-up's tasks, then the
 * process's counters are read (`callgrind_control -e Ir`, every thread), then it answers the
 * measured tasks and they are read again: start-up and the JIT's warm-up stay out. A window of
 * 1000, W=1. User-space instructions only: the kernel's side of a system call is not in them.
 * What is left between two runs of one build is the garbage collector's steps (a full GC falls
 * in one run's window and not in the other's): a few hundred instructions a task.
 *
 * Needs valgrind (Debian's package). The broker is the bench's (broker.ts); BENCH_TASKQUEUE_DIR
 * counts another build.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { INPUT_QUEUE, workerQueue } from './amqp.js';
import { openBroker, resetQueues, waitForConsumers } from './broker.js';
import { Load } from './load.js';
import { childrenOf, commandLine } from './proc-sampler.js';
import { killAllNow, Launched } from './processes.js';
import {
  environment,
  failureOf,
  ROOT,
  TASKQUEUE_DIR,
  unitEnvironment,
  workerpoolSection,
} from './systems.js';
import { TYPE } from './workitem.js';

const ROLES = ['child', 'dispatcher', 'ceiling-worker', 'relay'] as const;
type Role = (typeof ROLES)[number];
/** Start-up under callgrind is some 50 times slower: a child takes about 30 s to consume. */
const READY_TIMEOUT_MS = 240_000;
const BENCH_DIST = join(ROOT, 'bench/dist');
const CHILD_ENTRY = 'workerpool/child/main.js';
const callgrindFlags = (outDir: string | undefined) => [
  '--tool=callgrind',
  // The pool's child under callgrind too; not the pool's user lookups and `npm root -g`.
  '--trace-children=yes',
  '--trace-children-skip=*/getent',
  '--trace-children-skip-by-arg=*npm*',
  // V8 writes and rewrites machine code on the heap.
  '--smc-check=all-non-file',
  // The counters are read live; files only for --profile (the measured tasks' dump).
  `--callgrind-out-file=${outDir ? join(outDir, 'callgrind.%p') : '/dev/null'}`,
];
const USAGE = `usage: instructions ${ROLES.join('|')} [--warm-up N] [--tasks N] [--payload BYTES] [--profile]`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'warm-up': { type: 'string', default: '5000' },
    tasks: { type: 'string', default: '10000' },
    payload: { type: 'string', default: '200' },
    profile: { type: 'boolean', default: false },
  },
});
const role = positionals[0] as Role;
const warmUp = Number(values['warm-up']);
const tasks = Number(values.tasks);
const payloadBytes = Number(values.payload);
if (!ROLES.includes(role) || ![warmUp, tasks, payloadBytes].every(Number.isSafeInteger)) {
  console.error(USAGE);
  process.exit(2);
}
if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('valgrind is missing: apt-get install valgrind');
  process.exit(2);
}

const workDir = mkdtempSync(join(tmpdir(), 'tq-instructions-'));
chmodSync(workDir, 0o755);
const broker = await openBroker((line) => console.log(line));
process.once('exit', killAllNow);
try {
  const { all, main } = await countTasks(broker.url);
  const perTask = (n: number) => Math.round(n / tasks).toLocaleString('en');
  console.log(
    `${role} (${TASKQUEUE_DIR}), ${tasks} tasks after ${warmUp}: ` +
      `${perTask(all)} instructions a task, ${perTask(main)} of them on the main thread`,
  );
} finally {
  await broker.close();
}

/** The counted process's instructions over the measured tasks: in all, and on its main thread. */
async function countTasks(url: string): Promise<{ all: number; main: number }> {
  await resetQueues(url, TYPE);
  const config = join(workDir, 'config.ini');
  writeFileSync(config, taskqueueConfig(url));
  const log = (name: string) => join(workDir, `${name}.log`);
  const callgrind = (name: string, args: string[], env = environment()) =>
    new Launched(
      name,
      'valgrind',
      [...callgrindFlags(values.profile ? workDir : undefined), process.execPath, ...args],
      log(name),
      env,
    );
  const native = (name: string, args: string[], env = environment()) =>
    new Launched(name, process.execPath, args, log(name), env);
  const pool = [join(TASKQUEUE_DIR, 'dist/workerpool/main.js'), '-c', config];
  const dispatcher = [join(TASKQUEUE_DIR, 'dist/dispatcher/main.js'), '-c', config];
  const worker = [join(BENCH_DIST, 'ceiling-worker.js'), url, '1', TYPE, 'classic'];
  const relay = [join(BENCH_DIST, 'ceiling-relay.js'), url, '100', 'classic'];
  // The process counted, and the one its system needs beside it (started first).
  const systems: Record<Role, () => { counted: Launched; beside?: Launched }> = {
    child: () => ({ counted: callgrind('pool', pool) }),
    dispatcher: () => ({
      beside: native('pool', pool),
      counted: callgrind('dispatcher', dispatcher, unitEnvironment('taskqueue-dispatcher.service')),
    }),
    'ceiling-worker': () => ({ counted: callgrind('worker', worker) }),
    relay: () => ({ beside: native('worker', worker), counted: callgrind('relay', relay) }),
  };
  const { counted, beside } = systems[role]();
  const processes = beside ? [beside, counted] : [counted];
  const through = beside !== undefined;
  let running = true;
  const failed = failureOf(processes, () => running);
  const load = await Load.open(url);
  try {
    const consumers: Record<string, number> = { [workerQueue(TYPE)]: 1 };
    if (through) consumers[INPUT_QUEUE] = 1;
    await waitForConsumers(url, consumers, READY_TIMEOUT_MS, failed);
    const pid = role === 'child' ? childOf(counted.pid) : counted.pid;
    const answer = async (count: number, run: string) => {
      const queue = through ? INPUT_QUEUE : workerQueue(TYPE);
      const spec = { run, count, window: 1000, payloadBytes, queue };
      const limits = { stallMs: 120_000, deadlineMs: 3_600_000, keepLatencies: false };
      await Promise.race([failed, load.run({ ...spec, ...limits })]);
    };
    await answer(warmUp, 'instructions-warm-up');
    if (values.profile) callgrindControl(pid, ['--zero']);
    const before = counters(pid);
    await answer(tasks, 'instructions');
    const after = counters(pid);
    if (values.profile) {
      callgrindControl(pid, ['--dump=measured tasks']);
      console.log(`profile of the measured tasks: ${join(workDir, `callgrind.${pid}.1`)}`);
    }
    return { all: after.all - before.all, main: after.main - before.main };
  } finally {
    running = false;
    await load.close();
    await Promise.all(processes.map((p) => p.stop(120_000)));
  }
}

/** The pool's one child (valgrind follows the exec: the PID is the child's). */
function childOf(poolPid: number): number {
  const pid = childrenOf(poolPid).find((p) => commandLine(p).includes(CHILD_ENTRY));
  if (pid === undefined) throw new Error(`no child under the pool (${poolPid})`);
  return pid;
}

/** A live process's instructions so far: every thread's, and the first's (Node's main thread). */
function counters(pid: number): { all: number; main: number } {
  const text = callgrindControl(pid, ['-e', 'Ir']);
  const threads = [...text.matchAll(/^\s*Th (\d+)\s+([\d,]+)\s*$/gm)].map((m) => ({
    thread: Number(m[1]),
    ir: Number(m[2]!.replaceAll(',', '')),
  }));
  if (threads.length === 0)
    throw new Error(`callgrind_control read no counters of ${pid}: ${text}`);
  return {
    all: threads.reduce((sum, t) => sum + t.ir, 0),
    main: threads.find((t) => t.thread === 1)?.ir ?? 0,
  };
}

/**
 * One group of one child, W=1. As root the child runs as root: valgrind's files and vgdb's pipes
 * are made before setpriv would switch user, and the switch costs a few system calls at start-up,
 * none a task.
 */
function taskqueueConfig(url: string): string {
  const asRoot = process.getuid?.() === 0 ? 'user = root\n' : '';
  return `[amqp]
url = ${url}
connect_retries = 5

[dispatcher]
prefetch = 100

${workerpoolSection()}
[${TYPE}]
workers = 1
prefetch = 1
${asRoot}`;
}

/**
 * Runs callgrind_control on a live process. vgdb finds the process by a pipe named after the
 * user and host it started with (`...-vgdb-PID-by-USER-on-HOST`): the pool gives a child its
 * group user's USER.
 */
function callgrindControl(pid: number, args: string[]): string {
  const pipe = readdirSync('/tmp').find((f) =>
    f.startsWith(`vgdb-pipe-shared-mem-vgdb-${pid}-by-`),
  );
  const user = pipe && /-by-(.*)-on-/.exec(pipe)?.[1];
  const env = { ...process.env };
  if (user && user !== '???') env.USER = user;
  else delete env.USER;
  return execFileSync('callgrind_control', [...args, `${pid}`], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}
