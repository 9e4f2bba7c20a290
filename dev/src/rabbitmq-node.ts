/**
 * A private RabbitMQ node for development and tests (SPEC §6, last resort after
 * `TASKQUEUE_AMQP_URL` and Docker): Debian's `rabbitmq-server` started from a directory of its
 * own, on free ports, with its own epmd, and stopped afterwards. Nothing global is read or
 * touched: not `/etc/rabbitmq`, not `/var/lib/rabbitmq`, not the shared node or its epmd.
 *
 * Layout of a node's directory:
 *
 *   node.json              who owns the node (pid), its ports and processes; read by the reaper
 *   rabbitmq.conf          listeners on 127.0.0.1 only; conf.d/ stays empty
 *   rabbitmq-env.conf      empty, so /etc/rabbitmq/rabbitmq-env.conf is not sourced
 *   enabled_plugins        `[].`, or `[rabbitmq_management].` with `management: true`
 *   home/.erlang.cookie    the cookie that the node and `rabbitmqctl` share
 *   mnesia/                the data (durable queues and persistent messages survive restart())
 *   log/                   RabbitMQ's own log files
 *   server.out, epmd.out   stdout/stderr of the processes
 *
 * Cleanup has three layers: stop()/destroy(); a detached watchdog (dev/scripts/
 * tq-rabbit-watchdog.sh) that stops the node when the process that started it dies without
 * stopping it (Ctrl-C, crash, SIGKILL); and, at the next start(), a reaper that removes what a
 * dead owner and its dead watchdog left in os.tmpdir().
 *
 * Clusters: nodes started with the same `cookie` and the `epmdPort` of a first node (whose epmd
 * they then share, so that they find each other) join it with `joinCluster(first)`. `halt()` and
 * `resume()` stop and start one member's server while its data, ports and the shared epmd stay;
 * stop the first node (the epmd's owner) last.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** How long a node may take from spawn to `await_startup` succeeding. */
export const START_TIMEOUT_MS = 90_000;
/** How long stop() waits after SIGTERM (a graceful stop) before it sends SIGKILL. */
export const STOP_TIMEOUT_MS = 30_000;
/** How long one `rabbitmqctl` invocation may take. */
export const CTL_TIMEOUT_MS = 60_000;
/** Prefix of the temporary directories (under os.tmpdir()) that start() creates. */
export const NODE_DIR_PREFIX = 'tq-rabbit-';

const INSTALL_HINT = 'rabbitmq-server is not installed: apt-get install rabbitmq-server';
const DEBIAN_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
/** Debian's /usr/sbin entry points run `su rabbitmq`, which would lose our environment. */
const DEBIAN_WRAPPER = 'rabbitmq-script-wrapper';
const PORT_ATTEMPTS = 3;
const POLL_MS = 100;

export class RabbitNodeError extends Error {
  override name = 'RabbitNodeError';
}

/** Startup failed because a port was taken meanwhile; start() retries with other ports. */
class PortClash extends Error {}

/** What another process needs to reach a running node (serialisable). */
export interface RabbitNodeInfo {
  nodeName: string;
  port: number;
  distPort: number;
  epmdPort: number;
  dir: string;
  url: string;
  /** `http://guest:guest@127.0.0.1:PORT` when started with `management: true`. */
  mgmtUrl?: string;
}

export interface RabbitNodeOptions {
  /** Node name, `name` or `name@localhost`; default `tq-<pid>-<random>@localhost`, or the name
   * recorded in `dir` by an earlier node (so that its data is found again). */
  name?: string;
  /** Directory for config, data and logs; default a new `tq-rabbit-*` directory in os.tmpdir(). */
  dir?: string;
  /** AMQP port; default a free one. */
  port?: number;
  /** Erlang distribution port; default a free one. */
  distPort?: number;
  /** Enable the management plugin (HTTP API and UI on a free port; boot takes ~2 s longer). */
  management?: boolean;
  /** The management listener's port, with `management: true`; default a free one. */
  mgmtPort?: number;
  /** Progress lines of this harness (the broker's own output goes to files in `dir`). */
  log?: (line: string) => void;
  /** More rabbitmq.conf lines, e.g. a TLS listener for a test of amqps. */
  extraConfig?: string[];
  /** The Erlang cookie (default a random one); the nodes of a cluster need the same. */
  cookie?: string;
  /**
   * Use the epmd already listening on this port (another node's, for a cluster) instead of
   * starting one: this node neither starts nor stops it.
   */
  epmdPort?: number;
}

interface NodeState {
  ownerPid: number;
  serverPid?: number;
  epmdPid?: number;
  watchdogPid?: number;
  nodeName: string;
  port: number;
  distPort: number;
  epmdPort: number;
  mgmtPort?: number;
  tempDir: boolean;
}

// ---------------------------------------------------------------------------------------------
// Finding the programs

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string): string[] {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((d) => d !== '')
    .map((d) => path.join(d, name))
    .filter(isExecutable);
}

function isDebianWrapper(file: string): boolean {
  try {
    return path.basename(realpathSync(file)) === DEBIAN_WRAPPER;
  } catch {
    return false;
  }
}

/**
 * The `rabbitmq-server` script that can be run as the current user with our environment:
 * `TASKQUEUE_RABBITMQ_SERVER`, Debian's `/usr/lib/rabbitmq/bin/rabbitmq-server`, or one on PATH
 * that is not Debian's `su rabbitmq` wrapper. Undefined when RabbitMQ is not installed.
 */
export function findRabbitmqServer(): string | undefined {
  const candidates = [
    process.env.TASKQUEUE_RABBITMQ_SERVER,
    DEBIAN_SERVER,
    ...onPath('rabbitmq-server'),
  ];
  for (const c of candidates) {
    if (c && isExecutable(c) && !isDebianWrapper(c)) return c;
  }
  return undefined;
}

function requireRabbitmqServer(): { server: string; ctl: string } {
  const server = findRabbitmqServer();
  if (!server) throw new RabbitNodeError(INSTALL_HINT);
  const ctl = path.join(path.dirname(server), 'rabbitmqctl');
  if (!isExecutable(ctl))
    throw new RabbitNodeError(`${INSTALL_HINT} (no rabbitmqctl next to ${server})`);
  return { server, ctl };
}

function findEpmd(): string {
  const found = onPath('epmd')[0];
  if (found) return found;
  try {
    for (const d of readdirSync('/usr/lib/erlang').filter((e) => e.startsWith('erts-'))) {
      const p = path.join('/usr/lib/erlang', d, 'bin', 'epmd');
      if (isExecutable(p)) return p;
    }
  } catch {
    // fall through
  }
  throw new RabbitNodeError(`epmd (Erlang) not found; ${INSTALL_HINT}`);
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Whether a process exists and is not a zombie (an exited child nobody reaped yet). */
function alive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // "pid (comm) S ...": the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
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

function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** `count` distinct ports that are free on 127.0.0.1 right now. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = net.createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function portAnswers(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function tail(file: string, lines = 40): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function readState(dir: string): NodeState | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'node.json'), 'utf8')) as NodeState;
  } catch {
    return undefined;
  }
}

/** A child's exit as a promise; resolves at once when it already exited. */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function exitedWithin(child: ChildProcess, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  const ok = await Promise.race([exited(child).then(() => true as const), timeout]);
  clearTimeout(timer);
  return ok;
}

/** The environment without anything that would steer RabbitMQ or Erlang elsewhere. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const drop =
    /^(RABBITMQ_|ERL_|ERLANG_)|^(HOME|NOTIFY_SOCKET|CONF_ENV_FILE|NODENAME|USE_LONGNAME|detached)$/;
  for (const [k, v] of Object.entries(process.env)) if (!drop.test(k)) env[k] = v;
  return env;
}

function ctlEnv(info: Pick<RabbitNodeInfo, 'dir' | 'epmdPort' | 'nodeName'>): NodeJS.ProcessEnv {
  return {
    ...cleanEnv(),
    HOME: path.join(info.dir, 'home'),
    RABBITMQ_NODENAME: info.nodeName,
    RABBITMQ_USE_LONGNAME: 'false',
    RABBITMQ_CONF_ENV_FILE: path.join(info.dir, 'rabbitmq-env.conf'),
    ERL_EPMD_PORT: String(info.epmdPort),
    // Never start an epmd daemon of its own (it would outlive everything) when ours is gone.
    RABBITMQ_CTL_ERL_ARGS: '-start_epmd false',
  };
}

/** Runs `rabbitmqctl -n NODE ...args` against a node described by `info` (any process). */
export async function rabbitmqctl(
  info: Pick<RabbitNodeInfo, 'dir' | 'epmdPort' | 'nodeName'>,
  args: string[],
): Promise<string> {
  const { ctl } = requireRabbitmqServer();
  // The CLI starts an epmd daemon when it finds none (and that one would outlive everything):
  // a node whose epmd is gone is not running, so say so without running the CLI.
  if (!(await portAnswers(info.epmdPort, 2_000))) {
    throw new RabbitNodeError(
      `node ${info.nodeName} is not running (no epmd on port ${info.epmdPort})`,
    );
  }
  return new Promise((resolve, reject) => {
    execFile(
      ctl,
      ['-n', info.nodeName, ...args],
      {
        env: ctlEnv(info),
        cwd: info.dir,
        timeout: CTL_TIMEOUT_MS,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (err) {
          const out = `${stderr}\n${stdout}`.trim();
          reject(
            new RabbitNodeError(`rabbitmqctl ${args.join(' ')} failed: ${err.message}\n${out}`),
          );
        } else {
          resolve(stdout);
        }
      },
    );
  });
}

/** The amqp URL for a vhost of a broker whose base URL is `baseUrl` (path and vhost replaced). */
export function vhostUrl(baseUrl: string, vhost: string): string {
  const u = new URL(baseUrl);
  const auth = u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : '';
  return `${u.protocol}//${auth}${u.host}/${encodeURIComponent(vhost)}${u.search}`;
}

// ---------------------------------------------------------------------------------------------
// Crash safety: exit hook, watchdog, reaper

const liveNodes = new Set<RabbitNode>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous only: ask every node we still own to stop gracefully; the watchdog finishes the
  // job (waits, SIGKILLs if needed, ends epmd, removes temp dirs) once this process is gone.
  process.on('exit', () => {
    for (const n of liveNodes) n.signalServer('SIGTERM');
  });
}

/**
 * The watchdog (dev/scripts/tq-rabbit-watchdog.sh): runs detached from the node's first start
 * until stop(); when the owning process is gone, it stops the node. The same relative path from
 * dev/src (tests run the source) and dev/dist (the build).
 */
export const WATCHDOG_SCRIPT = fileURLToPath(
  new URL('../scripts/tq-rabbit-watchdog.sh', import.meta.url),
);
/** What a watchdog's command line holds (isWatchdog). */
const WATCHDOG_NAME = 'tq-rabbit-watchdog';

function isWatchdog(pid: number | undefined): boolean {
  if (!alive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(WATCHDOG_NAME);
  } catch {
    return !existsSync('/proc');
  }
}

function processesIn(dir: string): number[] {
  if (!existsSync('/proc')) return [];
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`).replace(/ \(deleted\)$/, '');
      if (cwd !== dir) continue;
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (comm === 'beam.smp' || comm === 'epmd' || cmdline.includes('rabbitmq-server')) {
        found.push(Number(entry));
      }
    } catch {
      // not ours to read, or gone
    }
  }
  return found;
}

/** Ends the RabbitMQ processes left in `dir` by an owner that is gone. */
function reapDir(dir: string, log: (line: string) => void): boolean {
  const state = readState(dir);
  if (!state) return false;
  if ([...liveNodes].some((n) => n.dir === dir)) return false;
  if (state.ownerPid !== process.pid && alive(state.ownerPid)) return false;
  if (isWatchdog(state.watchdogPid) && state.ownerPid !== process.pid) {
    return false; // its watchdog is cleaning up right now
  }
  const pids = processesIn(dir);
  for (const pid of pids) signal(pid, 'SIGKILL');
  if (pids.length > 0) log(`killed ${pids.length} leftover RabbitMQ process(es) in ${dir}`);
  return true;
}

let reaped = false;

/** Removes node directories (and their processes) whose owning process died uncleanly. */
export async function reapStaleNodes(log: (line: string) => void = () => {}): Promise<void> {
  const base = os.tmpdir();
  let entries: string[];
  try {
    entries = readdirSync(base).filter((e) => e.startsWith(NODE_DIR_PREFIX));
  } catch {
    return;
  }
  for (const e of entries) {
    const dir = path.join(base, e);
    const state = readState(dir);
    if (!state) {
      // Being created right now, or a crash before node.json: only remove when clearly old.
      try {
        if (Date.now() - statSync(dir).mtimeMs < 3_600_000) continue;
      } catch {
        continue;
      }
    } else if (!reapDir(dir, log)) {
      continue;
    }
    await sleep(50);
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    log(`removed stale node directory ${dir}`);
  }
}

// ---------------------------------------------------------------------------------------------

export class RabbitNode {
  /** Lines appended to rabbitmq.conf (RabbitNodeOptions.extraConfig). */
  extraConfig: string[] = [];
  readonly nodeName: string;
  readonly dir: string;
  port: number;
  distPort: number;
  epmdPort: number;
  mgmtPort: number | undefined;
  /** PID of the `rabbitmq-server` process (leader of the node's process group). */
  pid = 0;

  private readonly log: (line: string) => void;
  private readonly tempDir: boolean;
  /** Ports the caller chose: kept when a port clash makes start() retry with others. */
  private readonly fixed: { port: boolean; distPort: boolean; mgmtPort: boolean };
  /** The epmd belongs to another node (RabbitNodeOptions.epmdPort). */
  private readonly sharedEpmd: boolean;
  private readonly cookie: string | undefined;
  private server: ChildProcess | undefined;
  private epmd: ChildProcess | undefined;
  private watchdogPid: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    nodeName: string,
    dir: string,
    ports: { port: number; distPort: number; epmdPort: number; mgmtPort: number | undefined },
    tempDir: boolean,
    fixed: { port: boolean; distPort: boolean; mgmtPort: boolean },
    log: (line: string) => void,
    shared: { epmd: boolean; cookie: string | undefined } = { epmd: false, cookie: undefined },
  ) {
    this.nodeName = nodeName;
    this.dir = dir;
    this.port = ports.port;
    this.distPort = ports.distPort;
    this.epmdPort = ports.epmdPort;
    this.mgmtPort = ports.mgmtPort;
    this.tempDir = tempDir;
    this.fixed = fixed;
    this.log = log;
    this.sharedEpmd = shared.epmd;
    this.cookie = shared.cookie;
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  /** The management API's base URL, when started with `management: true`. */
  get mgmtUrl(): string | undefined {
    return this.mgmtPort === undefined
      ? undefined
      : `http://guest:guest@127.0.0.1:${this.mgmtPort}`;
  }

  get info(): RabbitNodeInfo {
    return {
      nodeName: this.nodeName,
      port: this.port,
      distPort: this.distPort,
      epmdPort: this.epmdPort,
      dir: this.dir,
      url: this.url,
      ...(this.mgmtUrl ? { mgmtUrl: this.mgmtUrl } : {}),
    };
  }

  get running(): boolean {
    return (
      this.server !== undefined && this.server.exitCode === null && this.server.signalCode === null
    );
  }

  static async start(opts: RabbitNodeOptions = {}): Promise<RabbitNode> {
    requireRabbitmqServer();
    const log = opts.log ?? (() => {});
    if (!reaped) {
      reaped = true;
      await reapStaleNodes(log);
    }

    const fixed = {
      port: opts.port !== undefined,
      distPort: opts.distPort !== undefined,
      mgmtPort: opts.mgmtPort !== undefined,
    };
    for (const p of [opts.port, opts.distPort]) {
      if (p !== undefined && !(await portFree(p))) {
        throw new RabbitNodeError(`cannot start a RabbitMQ node on port ${p}: it is in use`);
      }
    }

    let dir: string;
    let tempDir = false;
    if (opts.dir) {
      dir = path.resolve(opts.dir);
      await mkdir(dir, { recursive: true });
      const prev = readState(dir);
      const mine = [...liveNodes].some((n) => n.dir === dir);
      if (mine || (prev && prev.ownerPid !== process.pid && alive(prev.ownerPid))) {
        throw new RabbitNodeError(
          `${dir} is in use by node ${prev?.nodeName} of running process ${prev?.ownerPid}`,
        );
      }
      reapDir(dir, log);
    } else {
      dir = await mkdtemp(path.join(os.tmpdir(), NODE_DIR_PREFIX));
      tempDir = true;
    }
    const prev = readState(dir);
    let name = opts.name ?? prev?.nodeName ?? `tq-${process.pid}-${randomBytes(3).toString('hex')}`;
    if (!name.includes('@')) name = `${name}@localhost`;

    const [p1, p2, p3, p4] = await freePorts(4);
    const ports = {
      port: opts.port ?? p1!,
      distPort: opts.distPort ?? p2!,
      epmdPort: opts.epmdPort ?? p3!,
      mgmtPort: opts.management ? (opts.mgmtPort ?? p4) : undefined,
    };
    const node = new RabbitNode(name, dir, ports, tempDir, fixed, log, {
      epmd: opts.epmdPort !== undefined,
      cookie: opts.cookie,
    });
    node.extraConfig = opts.extraConfig ?? [];
    try {
      await node.prepareDir();
      await node.run(() => node.startAll(true));
    } catch (err) {
      // The directory stays for a look at the logs; the next run's reaper removes a temporary one.
      await node.run(() => node.stopAll()).catch(() => {});
      throw err;
    }
    return node;
  }

  /** Stops the node (gracefully; SIGKILL after STOP_TIMEOUT_MS) and its epmd. Idempotent. */
  stop(): Promise<void> {
    return this.run(() => this.stopAll());
  }

  /** Stops and starts the node again on the same ports and data directory. */
  restart(): Promise<void> {
    return this.run(async () => {
      const t0 = Date.now();
      await this.stopServer();
      await this.startAll(false);
      this.log(`node ${this.nodeName} restarted in ${Date.now() - t0} ms`);
    });
  }

  /**
   * Stops the server only (gracefully, as stop()): the node's data, ports, epmd and watchdog stay
   * for resume(). A cluster member going down; in a cluster, the other nodes keep the shared epmd.
   */
  halt(): Promise<void> {
    return this.run(() => this.stopServer());
  }

  /** Starts the server again after halt(), on the same ports and data (a no-op when running). */
  resume(): Promise<void> {
    return this.run(async () => {
      if (!this.running) await this.startAll(false);
    });
  }

  /**
   * Makes this node a member of `seed`'s cluster (`stop_app`, `join_cluster`, `start_app`). Both
   * must share the cookie and the epmd (start this one with `cookie` and `epmdPort` of `seed`).
   * This node's own data is reset by the join.
   */
  async joinCluster(seed: Pick<RabbitNodeInfo, 'nodeName' | 'epmdPort'>): Promise<void> {
    if (seed.epmdPort !== this.epmdPort) {
      throw new RabbitNodeError(
        `${this.nodeName} cannot join ${seed.nodeName}: nodes of a cluster must share an epmd ` +
          `(ports ${this.epmdPort} and ${seed.epmdPort}); start it with epmdPort: ${seed.epmdPort}`,
      );
    }
    await this.ctl(['stop_app']);
    await this.ctl(['join_cluster', seed.nodeName]);
    await this.ctl(['start_app']);
    await this.ctl(['await_startup']);
    this.log(`node ${this.nodeName} joined the cluster of ${seed.nodeName}`);
  }

  /** stop() and remove the node's directory. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Runs `rabbitmqctl -n NODE ...args` and returns its stdout. */
  ctl(args: string[]): Promise<string> {
    return rabbitmqctl(this.info, args);
  }

  /** Adds a vhost where guest may do everything; returns its amqp URL. */
  async addVhost(name: string): Promise<string> {
    await this.ctl(['add_vhost', name]);
    await this.ctl(['set_permissions', '-p', name, 'guest', '.*', '.*', '.*']);
    return vhostUrl(this.url, name);
  }

  async deleteVhost(name: string): Promise<void> {
    await this.ctl(['delete_vhost', name]);
  }

  /** Sends a signal to the server process (synchronous; for exit hooks). */
  signalServer(sig: NodeJS.Signals): void {
    if (this.running) signal(this.pid, sig);
  }

  // -------------------------------------------------------------------------------------------

  /** Serialises start/stop/restart so that concurrent calls cannot interleave. */
  private run<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => {});
    return next;
  }

  private async prepareDir(): Promise<void> {
    const d = this.dir;
    for (const sub of ['home', 'mnesia', 'log', 'conf.d'])
      await mkdir(path.join(d, sub), { recursive: true });
    const cookie = path.join(d, 'home', '.erlang.cookie');
    if (this.cookie !== undefined) {
      // Erlang refuses a cookie file that others may read; rm first: the old one is read-only.
      await rm(cookie, { force: true });
      await writeFile(cookie, this.cookie, { mode: 0o400 });
    } else if (!existsSync(cookie)) {
      await writeFile(cookie, randomBytes(24).toString('hex').toUpperCase(), { mode: 0o400 });
    }
    await writeFile(path.join(d, 'rabbitmq-env.conf'), '# intentionally empty\n');
    const plugins = this.mgmtPort === undefined ? '' : 'rabbitmq_management';
    await writeFile(path.join(d, 'enabled_plugins'), `[${plugins}].\n`);
    await this.writeConfig();
  }

  private async writeConfig(): Promise<void> {
    const conf = [
      `listeners.tcp.1 = 127.0.0.1:${this.port}`,
      'loopback_users.guest = true',
      'log.file.level = info',
      'log.console = true',
      'log.console.level = warning',
      ...(this.mgmtPort === undefined
        ? []
        : ['management.tcp.ip = 127.0.0.1', `management.tcp.port = ${this.mgmtPort}`]),
      ...this.extraConfig,
      '',
    ].join('\n');
    await writeFile(path.join(this.dir, 'rabbitmq.conf'), conf);
  }

  private async writeState(): Promise<void> {
    const state: NodeState = {
      ownerPid: process.pid,
      serverPid: this.running ? this.server?.pid : undefined,
      epmdPid: this.epmd && this.epmd.exitCode === null ? this.epmd.pid : undefined,
      watchdogPid: this.watchdogPid,
      nodeName: this.nodeName,
      port: this.port,
      distPort: this.distPort,
      epmdPort: this.epmdPort,
      mgmtPort: this.mgmtPort,
      tempDir: this.tempDir,
    };
    await writeFile(path.join(this.dir, 'node.json'), `${JSON.stringify(state, null, 2)}\n`);
  }

  private serverEnv(): NodeJS.ProcessEnv {
    const d = this.dir;
    return {
      ...ctlEnv(this.info),
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_MNESIA_BASE: path.join(d, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(d, 'log'),
      RABBITMQ_CONFIG_FILE: path.join(d, 'rabbitmq.conf'),
      RABBITMQ_CONFIG_FILES: path.join(d, 'conf.d'),
      RABBITMQ_ADVANCED_CONFIG_FILE: path.join(d, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(d, 'enabled_plugins'),
      RABBITMQ_PID_FILE: path.join(d, 'rabbitmq.pid'),
      RABBITMQ_MOTD_FILE: path.join(d, 'motd'),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS:
        '-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}',
    };
  }

  /** Starts epmd (if needed), the server and the watchdog; retries on port clashes. */
  private async startAll(firstStart: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        liveNodes.add(this);
        installExitHook();
        await this.startWatchdog();
        await this.startEpmd();
        await this.startServer();
        return;
      } catch (err) {
        const clash = err instanceof PortClash;
        if (!clash || !firstStart || attempt >= PORT_ATTEMPTS) {
          throw err instanceof PortClash ? new RabbitNodeError(err.message) : err;
        }
        this.log(`port clash (${err.message.split('\n')[0]}); retrying with other ports`);
        await this.stopServer();
        await this.stopEpmd();
        const [p1, p2, p3, p4] = await freePorts(4);
        if (!this.fixed.port) this.port = p1!;
        if (!this.fixed.distPort) this.distPort = p2!;
        if (!this.sharedEpmd) this.epmdPort = p3!;
        if (this.mgmtPort !== undefined && !this.fixed.mgmtPort) this.mgmtPort = p4!;
        await this.writeConfig();
      }
    }
  }

  private async startEpmd(): Promise<void> {
    if (this.sharedEpmd) {
      if (await portAnswers(this.epmdPort, 2_000)) return;
      throw new RabbitNodeError(
        `no epmd answers on port ${this.epmdPort} (the cluster's first node)`,
      );
    }
    if (this.epmd && this.epmd.exitCode === null && this.epmd.signalCode === null) return;
    const out = path.join(this.dir, 'epmd.out');
    const fd = openSync(out, 'a');
    try {
      this.epmd = spawn(findEpmd(), ['-port', String(this.epmdPort), '-address', '127.0.0.1'], {
        cwd: this.dir,
        env: cleanEnv(),
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const child = this.epmd;
    child.unref();
    child.once('error', () => {});
    await this.writeState();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (await portAnswers(this.epmdPort, 500)) return;
      await sleep(50);
    }
    signal(child.pid, 'SIGKILL');
    throw new PortClash(`epmd did not start on port ${this.epmdPort}: ${tail(out, 10)}`);
  }

  private async startServer(): Promise<void> {
    const { server } = requireRabbitmqServer();
    const t0 = Date.now();
    const out = path.join(this.dir, 'server.out');
    const logFile = path.join(this.dir, 'log', `${this.nodeName}.log`);
    const fd = openSync(out, 'a');
    let child: ChildProcess;
    try {
      child = spawn(server, [], {
        cwd: this.dir,
        env: this.serverEnv(),
        detached: true, // own process group: killable as a whole, deaf to the terminal's Ctrl-C
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    let spawnError: Error | undefined;
    child.once('error', (e) => {
      spawnError = e;
    });
    child.unref();
    this.server = child;
    this.pid = child.pid ?? 0;
    await this.writeState();
    this.log(`starting RabbitMQ node ${this.nodeName} on 127.0.0.1:${this.port} (dir ${this.dir})`);

    const fail = async (why: string): Promise<never> => {
      await this.stopServer(0);
      const text = [
        `RabbitMQ node ${this.nodeName} failed to start: ${why} (logs in ${this.dir})`,
        `--- ${out} (tail)`,
        tail(out),
        `--- ${logFile} (tail)`,
        tail(logFile),
      ].join('\n');
      const clash = /eaddrinuse|address already in use/i.test(text);
      throw clash ? new PortClash(text) : new RabbitNodeError(text);
    };

    const deadline = t0 + START_TIMEOUT_MS;
    while (true) {
      if (spawnError) return fail(spawnError.message);
      if (child.exitCode !== null || child.signalCode !== null) {
        return fail(`rabbitmq-server exited (${child.exitCode ?? child.signalCode})`);
      }
      if (Date.now() > deadline) return fail(`not ready after ${START_TIMEOUT_MS} ms`);
      if (await portAnswers(this.port, 500)) break;
      await sleep(POLL_MS);
    }
    try {
      await this.ctl(['await_startup']);
    } catch (err) {
      return fail((err as Error).message);
    }
    this.log(`node ${this.nodeName} ready in ${Date.now() - t0} ms (${this.url})`);
  }

  private async startWatchdog(): Promise<void> {
    if (isWatchdog(this.watchdogPid)) return;
    if (!existsSync(WATCHDOG_SCRIPT)) {
      throw new RabbitNodeError(`the watchdog script ${WATCHDOG_SCRIPT} is missing`);
    }
    const w = spawn(
      '/bin/sh',
      [
        WATCHDOG_SCRIPT,
        this.dir,
        String(process.pid),
        this.tempDir ? '1' : '0',
        String(Math.ceil(STOP_TIMEOUT_MS / 1000)),
      ],
      { cwd: '/', detached: true, stdio: 'ignore' },
    );
    w.once('error', () => {});
    w.unref();
    this.watchdogPid = w.pid;
    await this.writeState();
  }

  /** Graceful stop by SIGTERM to the server (rabbitmq-server forwards it to the VM). */
  private async stopServer(graceMs = STOP_TIMEOUT_MS): Promise<void> {
    const child = this.server;
    if (!child) return;
    const t0 = Date.now();
    const wasRunning = child.exitCode === null && child.signalCode === null;
    if (wasRunning && graceMs > 0) {
      this.log(`stopping node ${this.nodeName} (pid ${child.pid})`);
      signal(child.pid, 'SIGTERM');
    }
    if (!wasRunning || graceMs === 0 || !(await exitedWithin(child, graceMs))) {
      if (wasRunning && graceMs > 0) this.log(`node ${this.nodeName} ignored SIGTERM; SIGKILL`);
      if (child.pid) signal(-child.pid, 'SIGKILL');
      await exitedWithin(child, 5_000);
    }
    // Whatever is left in the process group (the VM if the shell died first).
    if (child.pid && groupAlive(child.pid)) {
      await sleep(200);
      signal(-child.pid, 'SIGKILL');
    }
    if (wasRunning) this.log(`node ${this.nodeName} stopped in ${Date.now() - t0} ms`);
    this.server = undefined;
    if (existsSync(this.dir)) await this.writeState().catch(() => {});
  }

  private async stopEpmd(): Promise<void> {
    const child = this.epmd;
    if (!child) return;
    signal(child.pid, 'SIGTERM');
    if (!(await exitedWithin(child, 3_000))) {
      signal(child.pid, 'SIGKILL');
      await exitedWithin(child, 3_000);
    }
    this.epmd = undefined;
  }

  private async stopAll(): Promise<void> {
    await this.stopServer();
    await this.stopEpmd();
    // Only now: had this process died during the stop, the watchdog would have finished it.
    if (isWatchdog(this.watchdogPid)) signal(this.watchdogPid, 'SIGKILL');
    this.watchdogPid = undefined;
    liveNodes.delete(this);
    if (existsSync(this.dir)) await this.writeState().catch(() => {});
  }
}
