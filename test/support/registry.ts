/**
 * A private npm registry for the registry suite: verdaccio on 127.0.0.1, storage in a temp dir.
 * The project's own packages (`@taskqueue/*`, `taskqueue-plugin-*`, `create-taskqueue-plugin`)
 * live only there: no uplink, so a publish never reaches npmjs and an install never takes a
 * same-named package from it. Everything else (typescript, @types/node) is proxied to npmjs.
 *
 * Every npm call goes through `npm()`, with a userconfig, cache and registry of this registry's
 * own in its directory: the user's ~/.npmrc and ~/.npm are neither read nor written.
 *
 *   const registry = await LocalRegistry.start(log);
 *   await registry.npm(['publish'], dir);
 *   await registry.stop();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NpmRun, npmEnv, runNpm } from './npm.js';
import { ensureVerdaccio } from './verdaccio-install.js';

/** The ports tried, in order, unless TQ_TEST_REGISTRY_PORT names one. */
export const REGISTRY_PORTS = Array.from({ length: 10 }, (_, n) => 48730 + n);
const UPSTREAM = 'https://registry.npmjs.org/';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
/** Names served from this registry only. */
const LOCAL_PACKAGES = ['@taskqueue/*', 'taskqueue-plugin-*', '@*/taskqueue-plugin-*'];
const LOCAL_EXACT = ['create-taskqueue-plugin'];

export class LocalRegistry {
  readonly url: string;
  /** Storage, config, log, npmrc and npm cache; removed by stop(). */
  readonly dir: string;
  #process: ChildProcess;
  #exited: Promise<void>;
  #env: NodeJS.ProcessEnv = {};
  #onExit = () => this.#process.kill('SIGKILL');

  private constructor(url: string, dir: string, child: ChildProcess) {
    this.url = url;
    this.dir = dir;
    this.#process = child;
    this.#exited = new Promise((done) => child.once('exit', () => done()));
    // A test worker that dies without its afterAll must not leave the registry listening.
    process.once('exit', this.#onExit);
  }

  /** Installs verdaccio if needed, starts it, and logs in a user of its own. */
  static async start(log: (line: string) => void): Promise<LocalRegistry> {
    const bin = await ensureVerdaccio(log);
    const dir = mkdtempSync(join(tmpdir(), 'tq-registry-'));
    try {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}/`;
      writeFileSync(join(dir, 'config.yaml'), verdaccioConfig(dir));
      const out = openSync(join(dir, 'verdaccio.log'), 'a');
      const child = spawn(
        process.execPath,
        [bin, '--config', join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`],
        { cwd: dir, stdio: ['ignore', out, out], env: { ...process.env, NODE_ENV: 'production' } },
      );
      closeSync(out);
      const registry = new LocalRegistry(url, dir, child);
      try {
        await registry.#waitUntilUp();
        await registry.#login();
      } catch (err) {
        await registry.stop();
        throw err;
      }
      log(`verdaccio ${url} (pid ${child.pid}), storage in ${dir}`);
      return registry;
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  get pid(): number {
    return this.#process.pid!;
  }

  /** The environment every npm call of the test gets (also for programs that run npm). */
  get env(): NodeJS.ProcessEnv {
    return this.#env;
  }

  /** `npm ...args` in `cwd` against this registry; rejects with npm's output when it fails. */
  npm(args: string[], cwd: string): Promise<NpmRun> {
    return runNpm(args, { cwd, env: this.#env });
  }

  /** The registry's own log, for a failure's message. */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'verdaccio.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** SIGTERM, SIGKILL after STOP_TIMEOUT_MS; removes the directory. Idempotent. */
  async stop(): Promise<void> {
    process.off('exit', this.#onExit);
    if (this.#process.exitCode === null && this.#process.signalCode === null) {
      this.#process.kill('SIGTERM');
      const timer = setTimeout(() => this.#process.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.#exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #waitUntilUp(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (this.#process.exitCode !== null || this.#process.signalCode !== null) {
        throw new Error(`verdaccio exited before it listened:\n${this.log()}`);
      }
      try {
        const response = await fetch(new URL('-/ping', this.url));
        if (response.ok) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        throw new Error(
          `verdaccio not up at ${this.url} after ${START_TIMEOUT_MS} ms:\n${this.log()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Creates a user through the CouchDB-style endpoint `npm adduser` uses (without its prompts)
   * and writes the token into this registry's own npmrc.
   */
  async #login(): Promise<void> {
    const name = 'tq-test';
    const response = await fetch(new URL(`-/user/org.couchdb.user:${name}`, this.url), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name,
        password: randomBytes(12).toString('hex'),
        type: 'user',
        roles: [],
        date: new Date().toISOString(),
      }),
    });
    const body = (await response.json()) as { token?: string; error?: string };
    if (!response.ok || !body.token) {
      throw new Error(
        `verdaccio refused the test user: ${response.status} ${JSON.stringify(body)}`,
      );
    }
    const npmrc = join(this.dir, 'npmrc');
    const host = this.url.replace(/^https?:/, '');
    writeFileSync(npmrc, `registry=${this.url}\n${host}:_authToken=${body.token}\n`, {
      mode: 0o600,
    });
    this.#env = npmEnv({
      userconfig: npmrc,
      registry: this.url,
      // A cache of its own: the same versions are published anew each run, with other contents.
      cache: join(this.dir, 'npm-cache'),
      update_notifier: 'false',
      fund: 'false',
      audit: 'false',
    });
  }
}

function verdaccioConfig(dir: string): string {
  const local = (pattern: string) =>
    `  '${pattern}':\n    access: $all\n    publish: $authenticated\n    unpublish: $authenticated\n`;
  return `# Written by test/support/registry.ts
storage: ${join(dir, 'storage')}
auth:
  htpasswd:
    file: ${join(dir, 'htpasswd')}
    max_users: 1
uplinks:
  npmjs:
    url: ${UPSTREAM}
    timeout: 60s
packages:
${[...LOCAL_PACKAGES, ...LOCAL_EXACT].map(local).join('')}  '**':
    access: $all
    publish: $authenticated
    proxy: npmjs
web:
  enable: false
log: { type: stdout, format: json, level: warn }
`;
}

/** The first port of TQ_TEST_REGISTRY_PORT or REGISTRY_PORTS that nothing listens on. */
async function freePort(): Promise<number> {
  const wanted = process.env.TQ_TEST_REGISTRY_PORT;
  const ports = wanted ? [Number(wanted)] : REGISTRY_PORTS;
  for (const port of ports) {
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port for the registry among ${ports.join(', ')}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
