/**
 * `--rabbitmq 4.0`: a private RabbitMQ 4.0 node from Debian trixie (4.0.5 on Erlang 27), which
 * cannot be installed on this bookworm host (it needs Erlang 26+). It runs from a debootstrapped
 * trixie rootfs (bench/scripts/trixie-rabbitmq-rootfs.sh, built once and cached under
 * /var/cache/taskqueue-bench/) in a chroot that shares the host's network and PID namespace: it
 * listens on free ports of 127.0.0.1 like the host's private nodes (dev/src/rabbitmq-node.ts),
 * and its beam process is an ordinary host process whose CPU the bench reads from /proc.
 *
 * The chroot's /proc is mounted in a mount namespace of its own (unshare), so it disappears with
 * the node and nothing is left mounted on the host. The node's directory (config, data, logs) is
 * under the rootfs's /bench-nodes/ and is removed at close().
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePorts } from '@taskqueue/dev/rabbitmq-node';
import { connect } from './amqp.js';
import { alive, treeOf } from './proc-sampler.js';

const ROOTFS_SCRIPT = resolve(
  fileURLToPath(new URL('.', import.meta.url)),
  '../scripts/trixie-rabbitmq-rootfs.sh',
);
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;
/** Inside the chroot: where each node's directory lives (the rootfs script creates it). */
const NODES_DIR = '/bench-nodes';

export interface TrixieRabbit {
  url: string;
  description: string;
  pids(): number[];
  close(): Promise<void>;
}

/** The cached rootfs, built first when missing (some minutes, once; needs network and root). */
function rootfs(log: (line: string) => void): Promise<string> {
  log(`trixie rootfs: ${ROOTFS_SCRIPT} (builds it once when missing)`);
  return new Promise((done, fail) => {
    const child = execFile('bash', [ROOTFS_SCRIPT], { maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) fail(new Error(`building the trixie rootfs failed: ${err.message}`));
      else done(stdout.trim().split('\n').at(-1) ?? '');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').trimEnd().split('\n')) log(line);
    });
  });
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** SIGKILL to a process group, synchronously (exit hooks), ignoring one that is gone. */
function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startTrixieRabbit(log: (line: string) => void): Promise<TrixieRabbit> {
  if (process.getuid?.() !== 0)
    throw new Error('--rabbitmq 4.0 runs RabbitMQ in a chroot: run the bench as root');
  const root = await rootfs(log);
  await mkdir(join(root, NODES_DIR), { recursive: true });
  const hostDir = mkdtempSync(join(root, NODES_DIR, 'tq-bench-'));
  const dir = `${NODES_DIR}/${basename(hostDir)}`;
  const [port, distPort, epmdPort] = (await freePorts(3)) as [number, number, number];
  const nodeName = `tq-bench-${process.pid}-${randomBytes(3).toString('hex')}@localhost`;
  for (const sub of ['home', 'mnesia', 'log', 'conf.d'])
    await mkdir(join(hostDir, sub), { recursive: true });
  writeFileSync(join(hostDir, 'home/.erlang.cookie'), randomBytes(24).toString('hex'), {
    mode: 0o400,
  });
  writeFileSync(join(hostDir, 'rabbitmq-env.conf'), '# intentionally empty\n');
  writeFileSync(join(hostDir, 'enabled_plugins'), '[].\n');
  writeFileSync(
    join(hostDir, 'rabbitmq.conf'),
    [
      `listeners.tcp.1 = 127.0.0.1:${port}`,
      'loopback_users.guest = true',
      'log.file.level = info',
      'log.console = false',
      '',
    ].join('\n'),
  );
  // Inside the chroot: its own epmd on a private port (a child of this script, so in the node's
  // process group and stopped with it), then the server in its place.
  writeFileSync(
    join(hostDir, 'start.sh'),
    `epmd -port ${epmdPort} -address 127.0.0.1 &\nexec /usr/lib/rabbitmq/bin/rabbitmq-server\n`,
  );
  const env = [
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    'LANG=C.UTF-8',
    `HOME=${dir}/home`,
    `RABBITMQ_NODENAME=${nodeName}`,
    'RABBITMQ_USE_LONGNAME=false',
    'RABBITMQ_NODE_IP_ADDRESS=127.0.0.1',
    `RABBITMQ_NODE_PORT=${port}`,
    `RABBITMQ_DIST_PORT=${distPort}`,
    `ERL_EPMD_PORT=${epmdPort}`,
    `RABBITMQ_MNESIA_BASE=${dir}/mnesia`,
    `RABBITMQ_LOG_BASE=${dir}/log`,
    `RABBITMQ_CONFIG_FILE=${dir}/rabbitmq.conf`,
    `RABBITMQ_CONFIG_FILES=${dir}/conf.d`,
    `RABBITMQ_ADVANCED_CONFIG_FILE=${dir}/advanced.config`,
    `RABBITMQ_ENABLED_PLUGINS_FILE=${dir}/enabled_plugins`,
    `RABBITMQ_CONF_ENV_FILE=${dir}/rabbitmq-env.conf`,
    `RABBITMQ_PID_FILE=${dir}/rabbitmq.pid`,
    'RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}',
  ];
  const out = join(hostDir, 'server.out');
  const fd = openSync(out, 'a');
  const launcher =
    'mount -t proc proc "$1/proc" && root="$1" && shift && ' +
    'exec chroot "$root" /usr/bin/env -i "$@" /bin/sh "$DIR/start.sh"';
  let child: ReturnType<typeof spawn>;
  try {
    // unshare without --fork: the same PID runs the chroot, then the server; detached, its own
    // process group, which close() stops as a whole.
    child = spawn(
      'unshare',
      ['--mount', '--propagation', 'private', 'sh', '-c', launcher, 'sh', root, ...env],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DIR: dir },
        detached: true,
        stdio: ['ignore', fd, fd],
      },
    );
  } finally {
    closeSync(fd);
  }
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start unshare/chroot for RabbitMQ 4.0');
  // This process ending in any way ends the node (main.ts stops it gracefully before).
  const onExit = () => killGroup(pid, 'SIGKILL');
  process.on('exit', onExit);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    log(`stopping RabbitMQ 4.0 node ${nodeName}`);
    killGroup(pid, 'SIGTERM');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (groupAlive(pid) && Date.now() < deadline) await sleep(200);
    if (groupAlive(pid)) {
      log(`node ${nodeName} ignored SIGTERM; SIGKILL`);
      killGroup(pid, 'SIGKILL');
      while (groupAlive(pid)) await sleep(100);
    }
    process.off('exit', onExit);
    rmSync(hostDir, { recursive: true, force: true });
  };

  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  log(`starting RabbitMQ 4.0 node ${nodeName} on 127.0.0.1:${port} (chroot ${root}, dir ${dir})`);
  const t0 = Date.now();
  for (;;) {
    if (!alive(pid)) {
      const why = `${tail(out)}\n--- log\n${tail(join(hostDir, 'log', `${nodeName}.log`))}`;
      await close().catch(() => {});
      throw new Error(`RabbitMQ 4.0 exited during start-up:\n${why}`);
    }
    if (Date.now() - t0 > START_TIMEOUT_MS) {
      await close();
      throw new Error(`RabbitMQ 4.0 not ready after ${START_TIMEOUT_MS} ms; see ${out}`);
    }
    // Ready means what the bench needs: an AMQP connection opens.
    const ready = await connect(url, 'bench-admin').then(
      (model) => model.close().then(() => true),
      () => false,
    );
    if (ready) break;
    await sleep(250);
  }
  log(`node ${nodeName} ready in ${Date.now() - t0} ms`);
  return {
    url,
    description: `private node ${nodeName} on port ${port} (trixie chroot ${root})`,
    pids: () => treeOf(pid),
    close,
  };
}
