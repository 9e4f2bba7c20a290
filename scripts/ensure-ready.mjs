#!/usr/bin/env node
/**
 * Run by npm before `start` and `test`: makes a fresh checkout runnable with no manual steps.
 *
 *  1. node_modules missing or older than package-lock.json → `npm ci` (`npm install` without a lock)
 *  2. unless TASKQUEUE_AMQP_URL is set or a Docker engine answers: RabbitMQ must be installed for
 *     the private broker (SPEC §6); as root apt-get installs it, otherwise we say what to install
 *  3. for `npm test` only, unless TQ_TEST_POSTGRES_URL is set or a PostgreSQL answers on
 *     127.0.0.1:5432: PostgreSQL's binaries, from which the store tests start a private server;
 *     as root apt-get installs them, otherwise we say what to install
 *  4. for `npm test` only, unless TQ_TEST_CHROMIUM names one: Debian's Chromium at
 *     /usr/bin/chromium, which the browser tests (test/browser) drive through playwright-core;
 *     as root apt-get installs it, otherwise we say what to install
 *  5. `tsc -b` (incremental) builds dist/; the browser dashboard (src/dashboard → dist/dashboard,
 *     scripts/build-dashboard.mjs) when any of its sources is newer than the last build
 *
 * Plain Node, no dependencies (it runs before they are installed; the dashboard build is a child
 * process). One line per step it does.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => console.log(`ensure-ready: ${line}`);

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.error) {
    console.error(`ensure-ready: ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) {
    console.error(`ensure-ready: ${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

const mtime = (p) => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return undefined;
  }
};

// 1. Dependencies -----------------------------------------------------------------------------
/**
 * better-sqlite3 (the API's store) builds its binding when no prebuilt one can be downloaded
 * (GitHub unreachable): node-gyp then wants this Node's headers, which it downloads from
 * nodejs.org unless told where they are. Debian's and NodeSource's nodejs install them in
 * /usr/include/node; we point node-gyp there when this Node is that one and nothing else was set.
 */
function installEnv() {
  const headers = '/usr/include/node/node.h';
  const systemNode = process.execPath === '/usr/bin/node' || process.execPath === '/usr/bin/nodejs';
  if (process.env.npm_config_nodedir || !systemNode || !existsSync(headers)) return process.env;
  const configured = spawnSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' });
  const nodedir = configured.status === 0 ? configured.stdout.trim() : '';
  if (nodedir !== '' && nodedir !== 'undefined' && nodedir !== 'null') return process.env;
  return { ...process.env, npm_config_nodedir: '/usr' };
}

/** The tools node-gyp builds better-sqlite3's binding with; as root apt-get installs them. */
function ensureBuildTools() {
  const missing = ['g++', 'make', 'python3'].filter(
    (tool) =>
      !(process.env.PATH ?? '')
        .split(path.delimiter)
        .some((d) => d && isExecutable(path.join(d, tool))),
  );
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && isExecutable('/usr/bin/apt-get')) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    say(`${missing.join(', ')} missing (better-sqlite3 is built here): apt-get install`);
    run('apt-get', ['update', '-q'], env);
    run(
      'apt-get',
      ['install', '-y', '-q', '--no-install-recommends', 'g++', 'make', 'python3'],
      env,
    );
  } else {
    console.error(
      `ensure-ready: ${missing.join(', ')} missing; better-sqlite3 (the API's store) is built here:\n` +
        '  sudo apt-get install --no-install-recommends g++ make python3',
    );
    process.exit(1);
  }
}

{
  const lock = path.join(root, 'package-lock.json');
  const nm = path.join(root, 'node_modules');
  const lockTime = mtime(lock);
  // npm writes node_modules/.package-lock.json after every install: the time of the last install.
  const installed = mtime(path.join(nm, '.package-lock.json')) ?? mtime(nm);
  if (installed === undefined || (lockTime !== undefined && lockTime > installed)) {
    const why = installed === undefined ? 'node_modules missing' : 'package-lock.json is newer';
    ensureBuildTools();
    if (lockTime !== undefined) {
      say(`${why}: npm ci`);
      run('npm', ['ci', '--no-audit', '--no-fund'], installEnv());
    } else {
      say(`${why}: npm install (no package-lock.json)`);
      run('npm', ['install', '--no-audit', '--no-fund'], installEnv());
    }
  }
}

// 2. RabbitMQ ---------------------------------------------------------------------------------
function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function rabbitmqInstalled() {
  const candidates = [
    process.env.TASKQUEUE_RABBITMQ_SERVER,
    '/usr/lib/rabbitmq/bin/rabbitmq-server',
    '/usr/sbin/rabbitmq-server',
    ...(process.env.PATH ?? '')
      .split(path.delimiter)
      .map((d) => d && path.join(d, 'rabbitmq-server')),
  ];
  return candidates.some((c) => c && isExecutable(c));
}

/** Whether a Docker engine answers (then testcontainers provides the broker). */
function dockerAnswers() {
  if (process.env.TASKQUEUE_TEST_BROKER === 'node') return Promise.resolve(false);
  const dh = process.env.DOCKER_HOST;
  let target;
  if (!dh) target = { socketPath: '/var/run/docker.sock' };
  else if (dh.startsWith('unix://')) target = { socketPath: dh.slice(7) };
  else if (dh.startsWith('tcp://') && !process.env.DOCKER_TLS_VERIFY) {
    const u = new URL(dh.replace(/^tcp:/, 'http:'));
    target = { host: u.hostname, port: Number(u.port || 2375) };
  } else return Promise.resolve(false);
  if (target.socketPath && !existsSync(target.socketPath)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = http.get({ ...target, path: '/_ping', timeout: 1500 }, (res) => {
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

if (!process.env.TASKQUEUE_AMQP_URL && !rabbitmqInstalled() && !(await dockerAnswers())) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && isExecutable('/usr/bin/apt-get')) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    say('rabbitmq-server missing: apt-get update');
    run('apt-get', ['update', '-q'], env);
    say('apt-get install rabbitmq-server');
    run('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'rabbitmq-server'], env);
  } else {
    console.error(
      [
        'ensure-ready: the tests and `npm start` need RabbitMQ (SPEC §6). Either',
        '  sudo apt-get install --no-install-recommends rabbitmq-server',
        'or run a Docker engine (testcontainers), or set TASKQUEUE_AMQP_URL=amqp://USER:PASS@HOST:5672',
      ].join('\n'),
    );
    process.exit(1);
  }
}

// 3. PostgreSQL (the task store's tests) ------------------------------------------------------
function postgresInstalled() {
  const lib = '/usr/lib/postgresql';
  if (!existsSync(lib)) return false;
  return readdirSync(lib).some((version) => isExecutable(path.join(lib, version, 'bin', 'initdb')));
}

function postgresAnswers() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: 5432, timeout: 1500 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

if (
  process.env.npm_lifecycle_event === 'pretest' &&
  !process.env.TQ_TEST_POSTGRES_URL &&
  !postgresInstalled() &&
  !(await postgresAnswers())
) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && isExecutable('/usr/bin/apt-get')) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    say('postgresql missing: apt-get update');
    run('apt-get', ['update', '-q'], env);
    say('apt-get install postgresql');
    run('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'postgresql'], env);
  } else {
    console.error(
      [
        "ensure-ready: the task store's tests need PostgreSQL. Either",
        '  sudo apt-get install --no-install-recommends postgresql',
        'or set TQ_TEST_POSTGRES_URL=postgres://USER@HOST:5432/DATABASE',
      ].join('\n'),
    );
    process.exit(1);
  }
}

// 4. Chromium (the dashboard's browser tests) -------------------------------------------------
// playwright-core downloads no browser of its own (no network here but the package registries):
// the tests drive Debian's, test/support/browser.ts.
if (
  process.env.npm_lifecycle_event === 'pretest' &&
  !process.env.TQ_TEST_CHROMIUM &&
  !isExecutable('/usr/bin/chromium')
) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && isExecutable('/usr/bin/apt-get')) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    say('chromium missing: apt-get update');
    run('apt-get', ['update', '-q'], env);
    say('apt-get install chromium');
    run('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'chromium'], env);
  } else {
    console.error(
      [
        "ensure-ready: the dashboard's browser tests need Chromium. Either",
        '  sudo apt-get install --no-install-recommends chromium',
        'or set TQ_TEST_CHROMIUM=/path/to/chromium',
      ].join('\n'),
    );
    process.exit(1);
  }
}

// 5. Build ------------------------------------------------------------------------------------
{
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  say('tsc -b');
  if (existsSync(tsc)) run(process.execPath, [tsc, '-b']);
  else run('npx', ['--no-install', 'tsc', '-b']);
}

/** The newest modification time of the files under `dir` (0 when there are none). */
function newestUnder(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(file) : (mtime(file) ?? 0));
  }
  return newest;
}

{
  const source = path.join(root, 'src', 'dashboard');
  const script = path.join(root, 'scripts', 'build-dashboard.mjs');
  // build-dashboard.mjs writes index.html last: its time is the time of the whole build.
  const built = mtime(path.join(root, 'dist', 'dashboard', 'index.html'));
  if (existsSync(source)) {
    const newest = Math.max(newestUnder(source), mtime(script) ?? 0);
    if (built === undefined || newest > built) {
      say(
        built === undefined
          ? 'dashboard not built: build-dashboard'
          : 'dashboard stale: build-dashboard',
      );
      run(process.execPath, [script]);
    }
  }
}
