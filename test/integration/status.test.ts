import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DispatcherStatus } from '../../src/dispatcher/status.js';
import type { GroupStatus, PoolStatus } from '../../src/workerpool/status/snapshot.js';
import { TestClient, workitem } from '../support/amqp-client.js';
import { useVhost } from '../support/broker.js';
import { livePids } from '../support/pool-children.js';
import { childPids } from '../support/processes.js';
import {
  Program,
  RUN_ROOT,
  runToEnd,
  startDispatcher,
  testConfig,
  writeConfig,
} from '../support/programs.js';
import { ensureGroup, ensureUser, isRoot, lookupUser, removeCreated } from '../support/users.js';

const CLI = join(RUN_ROOT, 'dist/cli/main.js');
const execFileAsync = promisify(execFile);

interface Answer {
  socket: string;
  status?: PoolStatus | DispatcherStatus;
  error?: { code: string; message: string };
}

/** Runs the real `taskqueue status` with `args`; its exit status, output and parsed --json. */
async function status(args: string[]) {
  const result = await runToEnd([process.execPath, CLI, 'status', ...args]);
  const answers = args.includes('--json')
    ? (JSON.parse(result.stdout) as { daemons: Answer[] }).daemons
    : [];
  return { ...result, answers };
}

/** Runs `taskqueue status ARGS` until `done(result)` holds (60 s at most); the last result. */
async function statusUntil(
  args: string[],
  done: (result: Awaited<ReturnType<typeof status>>) => boolean,
): Promise<Awaited<ReturnType<typeof status>>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const result = await status(args);
    if (done(result)) return result;
    if (Date.now() > deadline)
      throw new Error(`no such status within 60 s; last: ${result.stdout}${result.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The pool's answer through the CLI (--json), once `ready(answer)` holds. */
async function poolStatusWhen(
  socket: string,
  ready: (pool: PoolStatus) => boolean,
): Promise<{ code: number; pool: PoolStatus }> {
  const { code, answers } = await statusUntil(['--json', '--socket', socket], ({ answers }) => {
    const pool = answers[0]?.status;
    return pool?.daemon === 'workerpool' && ready(pool);
  });
  return { code, pool: answers[0]!.status as PoolStatus };
}

/** While paused: its pauses come back, longer each time, between rounds of failed starts. */
const crashFailed = (pool: PoolStatus) => group(pool, 'crash-on-start')?.state === 'failed';

const group = (pool: PoolStatus, name: string): GroupStatus =>
  pool.groups.find((g) => g.name === name)!;

describe('taskqueue status with a real pool and dispatcher', () => {
  let url: string;
  let client: TestClient;
  let dir: string;
  let poolSocket: string;
  let dispatcherSocket: string;
  let pool: Program;
  let dispatcher: Program;
  const cleanups: Array<() => unknown> = [];

  beforeAll(async () => {
    url = await useVhost('status');
    client = await TestClient.connect(url);
    // Reachable by every user, so that only the socket's own mode decides who may connect.
    dir = mkdtempSync(join(tmpdir(), 'tq-status-'));
    chmodSync(dir, 0o755);
    poolSocket = join(dir, 'workerpool.sock');
    dispatcherSocket = join(dir, 'dispatcher.sock');
    // The daemons give their socket to group taskqueue when it exists: make it (root only).
    if (isRoot()) ensureGroup('taskqueue');
    const text = testConfig(
      url,
      ['slow', 'crash-on-start'],
      `[dispatcher]\nstatus_socket = ${dispatcherSocket}\n\n[slow]\nworkers = 2\nsleep_ms = 3000\n\n[crash-on-start]\nworkers = 1\n`,
    ).replace('[workerpool]\n', `[workerpool]\nstatus_socket = ${poolSocket}\n`);
    const config = writeConfig(text);
    pool = new Program('workerpool', ['-c', config.file]);
    dispatcher = startDispatcher(config.file);
    cleanups.push(
      () => pool.stop(),
      () => dispatcher.stop(),
      () => config.cleanup(),
    );
    await pool.waitForRunning('slow', 2);
    // crash-on-start fails six times, with growing delays, before its group fails.
    await pool.waitFor(/"code":"TQ_ERR_GROUP_FAILED"/, 90_000);
  }, 120_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await client?.close();
    rmSync(dir, { recursive: true, force: true });
    removeCreated();
  });

  it('shows each group wanted/running with its pids, and a failed group with its code and retry (exit 1)', async () => {
    const { code, pool: answer } = await poolStatusWhen(
      poolSocket,
      (p) => group(p, 'slow')?.running === 2 && crashFailed(p),
    );
    expect(code).toBe(1);
    expect(answer.pid).toBe(pool.pid);
    const slow = group(answer, 'slow');
    expect(slow).toMatchObject({ wanted: 2, running: 2, state: 'serving', failed: null });
    const pids = slow.children.map((c) => c.pid!).sort((a, b) => a - b);
    expect(pids).toEqual(livePids(pool, 'slow'));
    expect(childPids(pool.pid)).toEqual(expect.arrayContaining(pids));
    for (const child of slow.children) {
      expect(child.state).toBe('running');
      expect(child.rssBytes).toBeGreaterThan(10 * 1024 ** 2);
      expect(child.uptimeS).toBeGreaterThanOrEqual(0);
    }
    const failed = group(answer, 'crash-on-start');
    expect(failed).toMatchObject({
      wanted: 1,
      running: 0,
      state: 'failed',
      failed: { code: 'TQ_ERR_GROUP_FAILED' },
    });
    // Six failed starts a round: the first start and five restarts, then the pause.
    expect(failed.restarts.total % 6).toBe(0);
    expect(failed.restarts.byCause).toEqual({ startup_failure: failed.restarts.total });
    expect(Date.parse(failed.failed!.retryAt)).toBeGreaterThan(Date.parse(failed.failed!.since));
    expect(answer.totals).toMatchObject({ groups: 2, failedGroups: 1, wanted: 3, running: 2 });
  });

  it('shows the task a child holds while it runs (id, type, since), then counts it done', async () => {
    await client.declare('worker_slow');
    await client.publish('worker_slow', workitem('slow', { n: 1 }), { correlationId: 'held-1' });
    const { pool: holding } = await poolStatusWhen(poolSocket, (p) =>
      group(p, 'slow').children.some((c) => c.inHand.length > 0),
    );
    const holder = group(holding, 'slow').children.find((c) => c.inHand.length > 0)!;
    expect(holder.inHand).toEqual([
      {
        id: 'held-1',
        type: 'slow',
        since: expect.any(String),
        forS: expect.any(Number),
        waiting: false,
      },
    ]);
    expect(holding.totals.tasksInHand).toBe(1);
    const [result] = await client.collect('results', 1, 30_000);
    expect(result!.properties.correlationId).toBe('held-1');
    const { pool: done } = await poolStatusWhen(
      poolSocket,
      (p) => p.totals.tasksDone === 1 && p.totals.tasksInHand === 0,
    );
    const worker = group(done, 'slow').children.find((c) => c.pid === holder.pid);
    expect(worker?.tasksDone).toBe(1);
  });

  it('prints a table for people: groups, the failure, every child, the dispatcher', async () => {
    const result = await statusUntil(
      ['--socket', poolSocket, '--socket', dispatcherSocket],
      ({ stdout }) => /^ {2}crash-on-start +\S+ +0\/1 +FAILED/m.test(stdout),
    );
    expect(result.code).toBe(1);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^workerpool \\(pid ${pool.pid}, `));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}slow +\S+ +2\/2 +serving/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}crash-on-start +\S+ +0\/1 +FAILED/));
    expect(lines).toContainEqual(expect.stringMatching(/TQ_ERR_GROUP_FAILED/));
    for (const pid of livePids(pool, 'slow'))
      expect(lines).toContainEqual(
        expect.stringMatching(new RegExp(`^ {2}slow +\\d +${pid} +running`)),
      );
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^dispatcher \\(pid ${dispatcher.pid}, `)),
    );
  });

  it("shows the dispatcher's state and counts of forwarded and parked tasks", async () => {
    await client.declare('taskqueue');
    await client.publish('taskqueue', workitem('nobody-consumes', { n: 1 }), { messageId: 'f-1' });
    await client.publish('taskqueue', workitem('nobody-consumes', { n: 2 }), { messageId: 'f-2' });
    await client.publish('taskqueue', 'not json', { messageId: 'bad-1' });
    const deadline = Date.now() + 30_000;
    let answer: DispatcherStatus | undefined;
    for (;;) {
      const { answers } = await status(['--json', '--socket', dispatcherSocket]);
      const got = answers[0]?.status;
      answer = got?.daemon === 'dispatcher' ? got : undefined;
      if (answer?.tasks.forwarded === 2 && answer.tasks.parked === 1) break;
      if (Date.now() > deadline) throw new Error(`dispatcher status: ${JSON.stringify(answer)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(answer).toMatchObject({
      daemon: 'dispatcher',
      pid: dispatcher.pid,
      queue: 'taskqueue',
      state: 'consuming',
      connected: true,
      consuming: true,
      tasks: { received: 3, forwarded: 2, parked: 1 },
    });
    expect(answer!.declaredTypes).toBeGreaterThanOrEqual(1);
  });

  it('names the socket nobody answers on (69, TQ_ERR_STATUS_UNREACHABLE) and prints what the other said', async () => {
    const missing = join(dir, 'nobody.sock');
    const result = await status(['--json', '--socket', poolSocket, '--socket', missing]);
    expect(result.code).toBe(69);
    expect(result.answers[0]!.status?.daemon).toBe('workerpool');
    expect(result.answers[1]).toMatchObject({
      socket: missing,
      error: { code: 'TQ_ERR_STATUS_UNREACHABLE' },
    });
    expect(result.stderr).toContain(`${missing}`);
    expect(result.stderr).toContain('[TQ_ERR_STATUS_UNREACHABLE]');
    const human = await status(['--socket', missing]);
    expect(human.code).toBe(69);
  });

  it('answers a malformed request with TQ_ERR_STATUS_REQUEST and a status request with one line', async () => {
    const ask = (line: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = createConnection(poolSocket);
        let data = '';
        socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
        socket.write(line);
      });
    const refused = JSON.parse(await ask('GET / HTTP/1.1\r\n\r\n'));
    expect(refused).toMatchObject({ ok: false, protocol: 1, code: 'TQ_ERR_STATUS_REQUEST' });
    const answered = await ask('{"get":"status"}\n');
    expect(answered.endsWith('\n')).toBe(true);
    expect(JSON.parse(answered)).toMatchObject({
      ok: true,
      protocol: 1,
      status: { daemon: 'workerpool' },
    });
  });

  it.skipIf(!isRoot())(
    'makes its socket 0660 group taskqueue: a member may ask, another user is refused (77)',
    async () => {
      const taskqueueGid = Number(
        (await execFileAsync('getent', ['group', 'taskqueue'])).stdout.split(':')[2],
      );
      for (const socket of [poolSocket, dispatcherSocket]) {
        const stat = statSync(socket);
        expect(stat.isSocket()).toBe(true);
        expect(stat.mode & 0o777).toBe(0o660);
        expect(stat.gid).toBe(taskqueueGid);
      }
      const member = ensureUser('tq-status-in', ['taskqueue']);
      const outsider = ensureUser('tq-status-out');
      expect(lookupUser(member.name).groups).toContain(taskqueueGid);
      // setpriv as the pool starts children: with the user's supplementary groups.
      const asUser = (user: string) =>
        runToEnd(
          [
            '/usr/bin/setpriv',
            `--reuid=${user}`,
            `--regid=${user}`,
            '--init-groups',
            process.execPath,
            CLI,
            'status',
            '--json',
            '--socket',
            poolSocket,
          ],
          { env: { HOME: '/' } },
        );
      const refused = await asUser(outsider.name);
      expect(refused.code).toBe(77);
      expect(refused.stderr).toContain('[TQ_ERR_STATUS_DENIED]');
      expect(refused.stderr).toContain('group taskqueue');
      const allowed = await asUser(member.name);
      expect(JSON.parse(allowed.stdout).daemons[0].status.daemon).toBe('workerpool');
      // 1 while crash-on-start is paused, 0 while it is tried again: answered either way.
      expect([0, 1]).toContain(allowed.code);
    },
  );
});

if (!isRoot()) console.warn('SKIPPED: status socket permissions need root (useradd, setpriv)');

describe('status sockets left behind, taken, and systemd', () => {
  let url: string;
  let dir: string;

  beforeAll(async () => {
    url = await useVhost('status-socket');
    dir = mkdtempSync(join(tmpdir(), 'tq-status-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A pool with no children, its status on `socket`, with `env`. */
  function emptyPool(socket: string, env: NodeJS.ProcessEnv = {}) {
    const text = testConfig(url, ['pid'], '[pid]\nworkers = 0\n').replace(
      '[workerpool]\n',
      `[workerpool]\nstatus_socket = ${socket}\n`,
    );
    const config = writeConfig(text);
    const program = new Program('workerpool', ['-c', config.file], env);
    return {
      program,
      cleanup: async () => {
        await program.stop();
        config.cleanup();
      },
    };
  }

  it('takes over the socket of a pool killed with SIGKILL, leaves a live one alone, and removes its own on stop', async () => {
    const socket = join(dir, 'taken.sock');
    const first = emptyPool(socket);
    await first.program.waitFor(/"msg":"ready"/);
    process.kill(first.program.pid, 'SIGKILL');
    await first.program.exited();
    await first.cleanup();
    expect(existsSync(socket)).toBe(true); // nobody removed it
    const second = emptyPool(socket);
    try {
      await second.program.waitFor(/"msg":"status socket open"/);
      expect(second.program.logs().some((l) => l.msg === 'removed a stale status socket')).toBe(
        true,
      );
      const third = emptyPool(socket);
      try {
        await third.program.waitFor(/"code":"TQ_ERR_STATUS_SOCKET"/);
        await third.program.waitFor(/"msg":"ready"/);
      } finally {
        await third.cleanup();
      }
      const { code, answers } = await status(['--json', '--socket', socket]);
      expect(code).toBe(0);
      expect(answers[0]!.status!.pid).toBe(second.program.pid);
    } finally {
      await second.cleanup();
    }
    expect(existsSync(socket)).toBe(false);
  });

  it('shows a group of the config that no plugin provides as refused (exit 1)', async () => {
    const socket = join(dir, 'refused.sock');
    const text = testConfig(
      url,
      ['pid', 'ghost'],
      '[pid]\nworkers = 0\n\n[ghost]\nworkers = 1\n',
    ).replace('[workerpool]\n', `[workerpool]\nstatus_socket = ${socket}\n`);
    const config = writeConfig(text);
    const program = new Program('workerpool', ['-c', config.file]);
    try {
      await program.waitFor(/"msg":"ready"/);
      const { code, answers } = await status(['--json', '--socket', socket]);
      expect(code).toBe(1);
      const pool = answers[0]!.status as PoolStatus;
      expect(pool.refused).toEqual([
        { name: 'ghost', type: 'ghost', code: 'TQ_ERR_PLUGIN_MISSING', reason: expect.any(String) },
      ]);
      expect(pool.totals.refusedGroups).toBe(1);
    } finally {
      await program.stop();
      config.cleanup();
    }
  });

  it('runs on without a socket whose directory is missing, saying so', async () => {
    const { program, cleanup } = emptyPool(join(dir, 'no-such-dir', 'x.sock'));
    try {
      const line = JSON.parse(await program.waitFor(/"code":"TQ_ERR_STATUS_SOCKET"/));
      expect(line.level).toBe(40); // a warning: outside systemd the default's directory is absent
      await program.waitFor(/"msg":"ready"/);
    } finally {
      await cleanup();
    }
  });

  it("pings systemd's watchdog every half WATCHDOG_USEC and sends STATUS=, through systemd-notify", async () => {
    // A stand-in for systemd-notify that writes down what it is told.
    const bin = join(dir, 'bin');
    const told = join(dir, 'told');
    mkdirSync(bin);
    writeFileSync(join(bin, 'systemd-notify'), `#!/bin/sh\necho "$@" >> ${told}\n`, {
      mode: 0o755,
    });
    const { program, cleanup } = emptyPool(join(dir, 'notify.sock'), {
      NOTIFY_SOCKET: join(dir, 'no-systemd-here'),
      WATCHDOG_USEC: '400000',
      PATH: `${bin}:${process.env.PATH}`,
    });
    const lines = () => (existsSync(told) ? readFileSync(told, 'utf8').split('\n') : []);
    try {
      await program.waitFor(/"msg":"ready"/);
      const deadline = Date.now() + 20_000;
      while (lines().filter((l) => l.endsWith(' WATCHDOG=1')).length < 5) {
        if (Date.now() > deadline)
          throw new Error(`systemd-notify was told:\n${lines().join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(lines()).toContainEqual(`--pid=${program.pid} STATUS=pid 0/0`);
      expect(lines()).toContainEqual(`--pid=${program.pid} READY=1`);
    } finally {
      await cleanup();
    }
  });
});
