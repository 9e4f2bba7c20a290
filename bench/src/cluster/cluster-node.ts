/**
 * One RabbitMQ node (the machine's rabbitmq-server, 3.10.8 on bookworm) inside a host's
 * namespace, named `rabbit@<ns>`, listening on the host's address, with an epmd of its own (each
 * namespace has its own port space, so every node's epmd is on the same port and the nodes find
 * each other as real hosts would). Laid out as dev/src/rabbitmq-node.ts lays out a private node
 * (nothing of /etc/rabbitmq or /var/lib/rabbitmq is read), which cannot be reused as is: it
 * binds to 127.0.0.1 and names nodes `@localhost`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findRabbitmqServer } from '@taskqueue/dev/rabbitmq-node';
import { treeOf } from '../proc-sampler.js';
import { type Host, inHost } from './network.js';

/** Fixed ports inside every namespace, in the range given to this helper (20400–20499). */
const AMQP_PORT = 20472;
const DIST_PORT = 20425;
const EPMD_PORT = 20469;
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;

function programs(): { server: string; ctl: string; epmd: string } {
  const server = findRabbitmqServer();
  if (!server) throw new Error('rabbitmq-server is not installed: apt-get install rabbitmq-server');
  return { server, ctl: join(dirname(server), 'rabbitmqctl'), epmd: 'epmd' };
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export class ClusterNode {
  readonly host: Host;
  readonly nodeName: string;
  readonly url: string;
  readonly #dir: string;
  readonly #cookie: string;
  #server: ChildProcess | undefined;
  #epmd: ChildProcess | undefined;
  readonly #log: (line: string) => void;

  readonly #erlArgs: string;

  constructor(
    host: Host,
    workDir: string,
    cookie: string,
    busyWait: boolean,
    log: (line: string) => void,
  ) {
    this.#erlArgs = busyWait
      ? '-start_epmd false'
      : '-start_epmd false +sbwt none +sbwtdcpu none +sbwtdio none';
    this.host = host;
    this.nodeName = `rabbit@${host.ns}`;
    this.url = `amqp://guest:guest@${host.address}:${AMQP_PORT}`;
    this.#dir = join(workDir, `node-${host.ns}`);
    this.#cookie = cookie;
    this.#log = log;
  }

  /** The server's process tree (the shell, beam.smp, its helpers): the node's CPU. */
  pids(): number[] {
    const pid = this.#server?.pid;
    return pid ? treeOf(pid) : [];
  }

  #env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    // Nothing that would steer RabbitMQ or Erlang to the machine's own node or config.
    const drop = /^(RABBITMQ_|ERL_|ERLANG_)|^(HOME|NOTIFY_SOCKET|CONF_ENV_FILE|NODENAME)$/;
    for (const [k, v] of Object.entries(process.env)) if (!drop.test(k)) env[k] = v;
    const d = this.#dir;
    return {
      ...env,
      HOME: join(d, 'home'),
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_USE_LONGNAME: 'false',
      RABBITMQ_CONF_ENV_FILE: join(d, 'rabbitmq-env.conf'),
      ERL_EPMD_PORT: String(EPMD_PORT),
      RABBITMQ_NODE_PORT: String(AMQP_PORT),
      RABBITMQ_DIST_PORT: String(DIST_PORT),
      RABBITMQ_MNESIA_BASE: join(d, 'mnesia'),
      RABBITMQ_LOG_BASE: join(d, 'log'),
      RABBITMQ_CONFIG_FILE: join(d, 'rabbitmq.conf'),
      RABBITMQ_CONFIG_FILES: join(d, 'conf.d'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(d, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(d, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(d, 'rabbitmq.pid'),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: this.#erlArgs,
      RABBITMQ_CTL_ERL_ARGS: '-start_epmd false',
    };
  }

  #prepare(): void {
    const d = this.#dir;
    for (const sub of ['home', 'mnesia', 'log', 'conf.d'])
      mkdirSync(join(d, sub), { recursive: true });
    writeFileSync(join(d, 'home', '.erlang.cookie'), this.#cookie, { mode: 0o400 });
    writeFileSync(join(d, 'rabbitmq-env.conf'), '# intentionally empty\n');
    writeFileSync(join(d, 'enabled_plugins'), '[].\n');
    writeFileSync(
      join(d, 'rabbitmq.conf'),
      [
        `listeners.tcp.1 = ${this.host.address}:${AMQP_PORT}`,
        // guest from other hosts: these are private namespaces on a private /24.
        'loopback_users = none',
        'log.file.level = info',
        'log.console = true',
        'log.console.level = warning',
        '',
      ].join('\n'),
    );
  }

  #spawn(file: string, args: string[], out: string): ChildProcess {
    const fd = openSync(join(this.#dir, out), 'a');
    try {
      // Own process group: deaf to the terminal's Ctrl-C, which the bench handles in order.
      const child = spawn('ip', [...inHost(this.host), file, ...args], {
        cwd: this.#dir,
        env: this.#env(),
        detached: true,
        stdio: ['ignore', fd, fd],
      });
      child.once('error', () => {});
      child.unref();
      return child;
    } finally {
      closeSync(fd);
    }
  }

  async start(): Promise<void> {
    const { server, epmd } = programs();
    this.#prepare();
    this.#epmd = this.#spawn(epmd, ['-port', String(EPMD_PORT)], 'epmd.out');
    const t0 = Date.now();
    this.#server = this.#spawn(server, [], 'server.out');
    const child = this.#server;
    while (!(await answers(this.host.address, AMQP_PORT))) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`${this.nodeName} exited at start; see ${this.#dir}/server.out and log/`);
      if (Date.now() - t0 > START_TIMEOUT_MS)
        throw new Error(
          `${this.nodeName} not listening after ${START_TIMEOUT_MS} ms (${this.#dir})`,
        );
      await sleep(250);
    }
    await this.ctl(['await_startup']);
    this.#log(`node ${this.nodeName} ready in ${Date.now() - t0} ms (${this.url})`);
  }

  /** Joins the cluster of `seed` (this node's own data is reset by the join). */
  async join(seed: ClusterNode): Promise<void> {
    await this.ctl(['stop_app']);
    await this.ctl(['join_cluster', seed.nodeName]);
    await this.ctl(['start_app']);
    await this.ctl(['await_startup']);
    this.#log(`node ${this.nodeName} joined ${seed.nodeName}`);
  }

  /** `rabbitmqctl -n NODE ...args`, run inside the host. */
  ctl(args: string[]): Promise<string> {
    const { ctl } = programs();
    return new Promise((resolve, reject) => {
      execFile(
        'ip',
        [...inHost(this.host), ctl, '-n', this.nodeName, ...args],
        { env: this.#env(), cwd: this.#dir, timeout: 90_000, killSignal: 'SIGKILL' },
        (err, stdout, stderr) => {
          if (err)
            reject(
              new Error(
                `rabbitmqctl ${args.join(' ')} (${this.nodeName}): ${stderr || err.message}`,
              ),
            );
          else resolve(stdout);
        },
      );
    });
  }

  /** SIGTERM to the server (a graceful stop), SIGKILL to its group after a grace; epmd too. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (server?.pid && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      if (!(await exited(server, STOP_TIMEOUT_MS))) {
        this.#log(`${this.nodeName} ignored SIGTERM: SIGKILL`);
        try {
          process.kill(-server.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
        await exited(server, 5_000);
      }
    }
    this.#server = undefined;
    const epmd = this.#epmd;
    if (epmd?.pid && epmd.exitCode === null) {
      epmd.kill('SIGTERM');
      await exited(epmd, 3_000);
    }
    this.#epmd = undefined;
  }
}
