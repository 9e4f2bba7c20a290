/**
 * A RabbitMQ broker for development and tests, chosen in the order of SPEC §6:
 *
 *  1. `TASKQUEUE_AMQP_URL` — an existing broker. Vhosts are managed through its management HTTP
 *     API (`TASKQUEUE_AMQP_MGMT_URL`, default `http://HOST:15672` with the URL's credentials)
 *     or, when that does not answer and the broker is on this host, through `rabbitmqctl`.
 *  2. A Docker engine that answers → testcontainers, image `TASKQUEUE_TEST_RABBITMQ_IMAGE`
 *     (default `rabbitmq:4-management`); vhosts through `rabbitmqctl` inside the container.
 *  3. Otherwise a private `rabbitmq-server` node (see rabbitmq-node.ts).
 *
 * `TASKQUEUE_TEST_BROKER=docker|node` skips the detection and forces 2 or 3.
 *
 * `admin.info` is plain data; `attachBrokerAdmin(info)` rebuilds an admin from it in another
 * process (vitest runs test files in child processes), whose close() releases nothing.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { RabbitNode, type RabbitNodeInfo, rabbitmqctl, vhostUrl } from './rabbitmq-node.js';

export { vhostUrl };

export type BrokerKind = 'external' | 'docker' | 'node';

export type BrokerInfo =
  /** `mgmtUrl` set: vhosts via the HTTP API; unset: via the local `rabbitmqctl`. */
  | { kind: 'external'; url: string; mgmtUrl?: string }
  | { kind: 'docker'; url: string; mgmtUrl: string; containerId: string }
  | { kind: 'node'; url: string; node: RabbitNodeInfo };

export interface BrokerAdmin {
  readonly kind: BrokerKind;
  /** amqp URL of the broker's default vhost. */
  readonly url: string;
  /** What another process needs to attach to this broker (serialisable). */
  readonly info: BrokerInfo;
  /** Creates a vhost the URL's user may use fully; returns its amqp URL. */
  createVhost(name: string): Promise<string>;
  /** Deletes a vhost; a vhost that does not exist is not an error. */
  deleteVhost(name: string): Promise<void>;
  /** Creates a user with `password` and no permissions on any vhost (tests of refused access). */
  createUser(name: string, password: string): Promise<void>;
  /** Deletes a user; a user that does not exist is not an error. */
  deleteUser(name: string): Promise<void>;
  /** Stops what openBrokerAdmin() started (nothing for an external broker or an attached admin). */
  close(): Promise<void>;
}

export type Log = (line: string) => void;

const DOCKER_PING_TIMEOUT_MS = 1_500;
const HTTP_TIMEOUT_MS = 10_000;
const CONTAINER_START_TIMEOUT_MS = 180_000;
const DEFAULT_IMAGE = 'rabbitmq:4-management';

export class BrokerAdminError extends Error {
  override name = 'BrokerAdminError';
}

// ---------------------------------------------------------------------------------------------

/** Opens the broker SPEC §6 prefers here, starting one when needed. */
export async function openBrokerAdmin(log: Log = () => {}): Promise<BrokerAdmin> {
  const envUrl = process.env.TASKQUEUE_AMQP_URL;
  if (envUrl) return openExternal(envUrl, log);

  const forced = process.env.TASKQUEUE_TEST_BROKER;
  if (forced && forced !== 'docker' && forced !== 'node') {
    throw new BrokerAdminError(`TASKQUEUE_TEST_BROKER must be "docker" or "node", not "${forced}"`);
  }
  if (forced === 'docker' || (forced === undefined && (await dockerEngineAnswers()))) {
    return openDocker(log);
  }
  const node = await RabbitNode.start({ log });
  return nodeAdmin(node.info, async () => {
    await node.destroy();
  });
}

/** An admin for a broker that another process opened; its close() leaves the broker alone. */
export async function attachBrokerAdmin(info: BrokerInfo): Promise<BrokerAdmin> {
  switch (info.kind) {
    case 'external':
      return info.mgmtUrl ? httpAdmin(info, info.url, info.mgmtUrl) : localCtlAdmin(info);
    case 'docker':
      return httpAdmin(info, info.url, info.mgmtUrl);
    case 'node':
      return nodeAdmin(info.node, async () => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Docker

function dockerEndpoint(): { socketPath: string } | { host: string; port: number } | undefined {
  const dh = process.env.DOCKER_HOST;
  if (dh) {
    if (dh.startsWith('unix://')) return { socketPath: dh.slice('unix://'.length) };
    if (dh.startsWith('tcp://')) {
      const u = new URL(dh.replace(/^tcp:/, 'http:'));
      return { host: u.hostname, port: Number(u.port || 2375) };
    }
    return undefined; // ssh:// and friends: leave it to testcontainers only when forced
  }
  return { socketPath: '/var/run/docker.sock' };
}

/** Whether a Docker engine answers `GET /_ping` within DOCKER_PING_TIMEOUT_MS. */
export function dockerEngineAnswers(timeoutMs = DOCKER_PING_TIMEOUT_MS): Promise<boolean> {
  const ep = dockerEndpoint();
  if (!ep) return Promise.resolve(false);
  if ('host' in ep && process.env.DOCKER_TLS_VERIFY) {
    // TLS engine: a TCP answer is enough of a sign; testcontainers does the handshake.
    return new Promise((resolve) => {
      const s = net.connect(ep);
      const done = (ok: boolean) => {
        s.destroy();
        resolve(ok);
      };
      s.setTimeout(timeoutMs, () => done(false));
      s.once('connect', () => done(true));
      s.once('error', () => done(false));
    });
  }
  return new Promise((resolve) => {
    const req = http.get({ ...ep, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.once('error', () => resolve(false));
  });
}

async function openDocker(log: Log): Promise<BrokerAdmin> {
  const image = process.env.TASKQUEUE_TEST_RABBITMQ_IMAGE ?? DEFAULT_IMAGE;
  log(`starting ${image} with testcontainers`);
  const t0 = Date.now();
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(image)
    .withExposedPorts(5672, 15672)
    .withWaitStrategy(Wait.forLogMessage(/Server startup complete/))
    .withStartupTimeout(CONTAINER_START_TIMEOUT_MS)
    .start();
  const host = container.getHost();
  const url = `amqp://guest:guest@${host}:${container.getMappedPort(5672)}`;
  const mgmtUrl = `http://guest:guest@${host}:${container.getMappedPort(15672)}`;
  log(`container ${container.getId().slice(0, 12)} ready in ${Date.now() - t0} ms (${url})`);
  const info: BrokerInfo = { kind: 'docker', url, mgmtUrl, containerId: container.getId() };

  const ctl = async (args: string[]): Promise<void> => {
    const r = await container.exec(['rabbitmqctl', ...args]);
    if (r.exitCode !== 0) {
      throw new BrokerAdminError(`rabbitmqctl ${args.join(' ')} failed: ${r.output.trim()}`);
    }
  };
  let closed = false;
  return {
    kind: 'docker',
    url,
    info,
    async createVhost(name) {
      await ctl(['add_vhost', name]);
      await ctl(['set_permissions', '-p', name, 'guest', '.*', '.*', '.*']);
      return vhostUrl(url, name);
    },
    async deleteVhost(name) {
      const r = await container.exec(['rabbitmqctl', 'delete_vhost', name]);
      if (r.exitCode !== 0 && !/not.?found|does not exist|no_such_vhost/i.test(r.output)) {
        throw new BrokerAdminError(`rabbitmqctl delete_vhost ${name} failed: ${r.output.trim()}`);
      }
    },
    async createUser(name, password) {
      await ctl(['add_user', name, password]);
    },
    async deleteUser(name) {
      const r = await container.exec(['rabbitmqctl', 'delete_user', name]);
      if (r.exitCode !== 0 && !/not.?found|does not exist|no_such_user/i.test(r.output)) {
        throw new BrokerAdminError(`rabbitmqctl delete_user ${name} failed: ${r.output.trim()}`);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await container.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// External broker (TASKQUEUE_AMQP_URL)

function isLocalHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || h.startsWith('127.');
}

function credentials(amqpUrl: string): { user: string; pass: string } {
  const u = new URL(amqpUrl);
  return {
    user: u.username ? decodeURIComponent(u.username) : 'guest',
    pass: u.password ? decodeURIComponent(u.password) : 'guest',
  };
}

/** The management base URL (no trailing slash) and the credentials to use with it. */
function mgmtTarget(amqpUrl: string, mgmtUrl: string): { base: string; auth: string } {
  const m = new URL(mgmtUrl);
  const { user, pass } = m.username
    ? { user: decodeURIComponent(m.username), pass: decodeURIComponent(m.password) }
    : credentials(amqpUrl);
  m.username = '';
  m.password = '';
  const base = m.toString().replace(/\/+$/, '');
  return { base, auth: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
}

async function mgmtRequest(
  amqpUrl: string,
  mgmtUrl: string,
  method: string,
  apiPath: string,
  body?: unknown,
  timeoutMs = HTTP_TIMEOUT_MS,
): Promise<Response> {
  const { base, auth } = mgmtTarget(amqpUrl, mgmtUrl);
  const headers: Record<string, string> = { authorization: auth };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${base}/api/${apiPath}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
}

async function openExternal(url: string, log: Log): Promise<BrokerAdmin> {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw new BrokerAdminError(`TASKQUEUE_AMQP_URL is not a URL: ${url}`);
  }
  const explicitMgmt = process.env.TASKQUEUE_AMQP_MGMT_URL;
  const mgmtUrl = explicitMgmt ?? `http://${host}:15672`;
  const port = Number(new URL(url).port || (url.startsWith('amqps:') ? 5671 : 5672));
  let why: string;
  try {
    const res = await mgmtRequest(url, mgmtUrl, 'GET', 'overview', undefined, 3_000);
    if (res.ok) {
      const overview = (await res.json()) as { listeners?: { protocol?: string; port?: number }[] };
      const ports = (overview.listeners ?? []).map((l) => Number(l.port));
      // The default guess may find another broker's management API on this host.
      if (explicitMgmt || ports.includes(port)) {
        log(`using TASKQUEUE_AMQP_URL; vhosts via the management API at ${mgmtUrl}`);
        return httpAdmin({ kind: 'external', url, mgmtUrl }, url, mgmtUrl);
      }
      throw new BrokerAdminError(
        `the management API at ${mgmtUrl} belongs to a broker listening on ${ports.join(', ')}, ` +
          `not on ${port}; set TASKQUEUE_AMQP_MGMT_URL`,
      );
    }
    why = `HTTP ${res.status}`;
    if (res.status === 401) {
      throw new BrokerAdminError(
        `the management API at ${mgmtUrl} refused the credentials (${why}); ` +
          'set TASKQUEUE_AMQP_MGMT_URL=http://USER:PASS@HOST:15672',
      );
    }
  } catch (err) {
    if (err instanceof BrokerAdminError) throw err;
    const e = err as Error & { cause?: Error };
    why = e.cause?.message ? `${e.message}: ${e.cause.message}` : e.message;
  }
  if (isLocalHost(host)) {
    let ports: number[];
    try {
      ports = await localListenerPorts();
    } catch (err) {
      throw new BrokerAdminError(
        `TASKQUEUE_AMQP_URL is local but neither the management API (${mgmtUrl}: ${why}) nor ` +
          `rabbitmqctl works: ${(err as Error).message}`,
      );
    }
    // rabbitmqctl talks to the node RABBITMQ_NODENAME names, which need not be the URL's broker.
    if (!ports.includes(port)) {
      throw new BrokerAdminError(
        `TASKQUEUE_AMQP_URL's broker (port ${port}) is not the node the local rabbitmqctl ` +
          `manages (it listens on ${ports.join(', ') || 'nothing'}), and its management API ` +
          `(${mgmtUrl}) did not answer (${why}). Set RABBITMQ_NODENAME or TASKQUEUE_AMQP_MGMT_URL.`,
      );
    }
    log('using TASKQUEUE_AMQP_URL; vhosts via the local rabbitmqctl');
    return localCtlAdmin({ kind: 'external', url });
  }
  throw new BrokerAdminError(
    `cannot manage vhosts on ${host}: its management API (${mgmtUrl}) did not answer (${why}). ` +
      'Enable rabbitmq_management there or set TASKQUEUE_AMQP_MGMT_URL.',
  );
}

function httpAdmin(info: BrokerInfo, url: string, mgmtUrl: string): BrokerAdmin {
  const { user } = credentials(url);
  const call = async (method: string, apiPath: string, body?: unknown, okStatus: number[] = []) => {
    const res = await mgmtRequest(url, mgmtUrl, method, apiPath, body);
    if (!res.ok && !okStatus.includes(res.status)) {
      const text = await res.text().catch(() => '');
      throw new BrokerAdminError(`${method} /api/${apiPath}: HTTP ${res.status} ${text}`.trim());
    }
  };
  return {
    kind: info.kind,
    url,
    info,
    async createVhost(name) {
      const v = encodeURIComponent(name);
      await call('PUT', `vhosts/${v}`, {});
      await call('PUT', `permissions/${v}/${encodeURIComponent(user)}`, {
        configure: '.*',
        write: '.*',
        read: '.*',
      });
      return vhostUrl(url, name);
    },
    async deleteVhost(name) {
      await call('DELETE', `vhosts/${encodeURIComponent(name)}`, undefined, [404]);
    },
    async createUser(name, password) {
      await call('PUT', `users/${encodeURIComponent(name)}`, { password, tags: '' });
    },
    async deleteUser(name) {
      await call('DELETE', `users/${encodeURIComponent(name)}`, undefined, [404]);
    },
    async close() {},
  };
}

/** The system's `rabbitmqctl` (Debian's wrapper switches to the rabbitmq user and its cookie). */
function localCtl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('rabbitmqctl', args, { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err)
        reject(new BrokerAdminError(`rabbitmqctl ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** The ports the node that the local CLI tools manage listens on (read-only query). */
function localListenerPorts(): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const args = ['-q', 'listeners', '--formatter', 'json'];
    execFile('rabbitmq-diagnostics', args, { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) {
        reject(new BrokerAdminError(`rabbitmq-diagnostics listeners: ${stderr || err.message}`));
        return;
      }
      try {
        type Listener = { port?: number; protocol?: string };
        const out = JSON.parse(stdout) as Listener[] | { listeners?: Listener[] };
        const list = Array.isArray(out) ? out : (out.listeners ?? []);
        resolve(list.filter((l) => l.protocol !== 'clustering').map((l) => Number(l.port)));
      } catch {
        reject(new BrokerAdminError(`rabbitmq-diagnostics listeners: unexpected output ${stdout}`));
      }
    });
  });
}

function localCtlAdmin(info: BrokerInfo): BrokerAdmin {
  const { user } = credentials(info.url);
  return {
    kind: info.kind,
    url: info.url,
    info,
    async createVhost(name) {
      await localCtl(['add_vhost', name]);
      await localCtl(['set_permissions', '-p', name, user, '.*', '.*', '.*']);
      return vhostUrl(info.url, name);
    },
    async deleteVhost(name) {
      await localCtl(['delete_vhost', name]).catch((err: Error) => {
        if (!/not.?found|does not exist|no_such_vhost/i.test(err.message)) throw err;
      });
    },
    async createUser(name, password) {
      await localCtl(['add_user', name, password]);
    },
    async deleteUser(name) {
      await localCtl(['delete_user', name]).catch((err: Error) => {
        if (!/not.?found|does not exist|no_such_user/i.test(err.message)) throw err;
      });
    },
    async close() {},
  };
}

// ---------------------------------------------------------------------------------------------
// Private node

function nodeAdmin(node: RabbitNodeInfo, close: () => Promise<void>): BrokerAdmin {
  const info: BrokerInfo = { kind: 'node', url: node.url, node };
  let closed = false;
  return {
    kind: 'node',
    url: node.url,
    info,
    async createVhost(name) {
      await rabbitmqctl(node, ['add_vhost', name]);
      await rabbitmqctl(node, ['set_permissions', '-p', name, 'guest', '.*', '.*', '.*']);
      return vhostUrl(node.url, name);
    },
    async deleteVhost(name) {
      await rabbitmqctl(node, ['delete_vhost', name]).catch((err: Error) => {
        if (!/not.?found|does not exist|no_such_vhost/i.test(err.message)) throw err;
      });
    },
    async createUser(name, password) {
      await rabbitmqctl(node, ['add_user', name, password]);
    },
    async deleteUser(name) {
      await rabbitmqctl(node, ['delete_user', name]).catch((err: Error) => {
        if (!/not.?found|does not exist|no_such_user/i.test(err.message)) throw err;
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await close();
    },
  };
}
