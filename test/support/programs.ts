import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/**
 * Where the programs, plugins and trusted temp dirs are: the checkout, or its staged copy when
 * the pool's children could not read the checkout (global-setup.ts, dev/src/stage.ts).
 */
export const RUN_ROOT = process.env.TQ_TEST_RUN_ROOT || ROOT;

const execFileAsync = promisify(execFile);

/** How a program run to its end by runToEnd ended. */
export interface Ended {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `argv` to its end (60 s at most) with `input` on its stdin, then closed, so a program that
 * reads stdin never waits; with no broker from the environment unless `env` names one. Resolves
 * with its exit status and output, whatever the status.
 */
export async function runToEnd(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<Ended> {
  const [command, ...args] = argv;
  const started = execFileAsync(command!, args, {
    env: { ...process.env, TASKQUEUE_AMQP_URL: '', ...options.env },
    timeout: 60_000,
  });
  started.child.stdin?.end(options.input ?? '');
  try {
    const { stdout, stderr } = await started;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Calls `onLine` with each complete line of a program's output stream, as it comes. */
export function readLines(stream: Readable, onLine: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) onLine(line);
  });
}
/** One-behaviour plugins for tests, plus the example plugins linked by the workspace. */
export const FIXTURE_PLUGINS = join(RUN_ROOT, 'test/fixtures/plugins');
export const WORKSPACE_PLUGINS = join(RUN_ROOT, 'node_modules');

/** A real taskqueue program running as a child process, with its output kept for assertions. */
export class Program {
  readonly name: string;
  readonly process: ChildProcess;
  readonly lines: string[] = [];
  #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];

  constructor(
    name: string,
    args: string[],
    env: NodeJS.ProcessEnv = {},
    as: { uid: number; gid: number } | undefined = undefined,
  ) {
    this.name = name;
    this.process = spawn(process.execPath, [join(RUN_ROOT, `dist/${name}/main.js`), ...args], {
      ...as,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TASKQUEUE_LOG_PRETTY: '0', TASKQUEUE_AMQP_URL: '', ...env },
    });
    for (const stream of [this.process.stdout!, this.process.stderr!])
      readLines(stream, (line) => this.#onLine(line));
    this.#exit = new Promise((done) =>
      this.process.once('exit', (code, signal) => done({ code, signal })),
    );
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** Resolves with the first output line (past or future) matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const seen = this.lines.find((line) => pattern.test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.name}: no line matching ${pattern} within ${timeoutMs} ms\n${this.tail()}`,
            ),
          ),
        timeoutMs,
      );
      this.#waiters.push({
        pattern,
        resolve: (line) => {
          clearTimeout(timer);
          resolvePromise(line);
        },
      });
    });
  }

  /** The JSON log lines as objects (non-JSON lines are skipped). */
  logs(): Array<Record<string, unknown>> {
    return this.lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  tail(count = 30): string {
    return this.lines.slice(-count).join('\n');
  }

  /** Resolves once `count` children of `group` reached `running` (pool logs). */
  async waitForRunning(group: string, count = 1, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const running = () =>
      this.logs().filter((l) => l.msg === 'child state' && l.group === group && l.to === 'running')
        .length;
    while (running() < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `${this.name}: ${running()}/${count} children of ${group} running after ${timeoutMs} ms\n${this.tail()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exit;
  }

  /** SIGTERM, and SIGKILL if it has not exited after `timeoutMs`. */
  async stop(timeoutMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill('SIGTERM');
      const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
      const result = await this.#exit;
      clearTimeout(timer);
      return result;
    }
    return this.#exit;
  }

  #onLine(line: string): void {
    this.lines.push(line);
    if (process.env.TQ_TEST_VERBOSE) process.stderr.write(`[${this.name}] ${line}\n`);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.pattern.test(line)) return true;
      waiter.resolve(line);
      return false;
    });
  }
}

/**
 * A fresh directory, mode 0755, that the pool trusts with plugins: inside the checkout or its
 * staged copy (owned by root when the tests run as root), not under the world-writable /tmp,
 * whose plugins it refuses.
 */
export function trustedTempDir(prefix: string): string {
  const parent = join(RUN_ROOT, '.tq-test');
  mkdirSync(parent, { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(parent, prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/** A temp dir with a config file; `cleanup()` removes it. */
export function writeConfig(text: string): { file: string; dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tq-test-'));
  const file = join(dir, 'config.ini');
  writeFileSync(file, text);
  return { file, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A config for `url` that finds the fixture and example plugins, runs only the `enabled` types,
 * and ends with `sections`.
 */
export function testConfig(url: string, enabled: string[], sections = ''): string {
  return `[amqp]
url = ${url}
connect_retries = 60

[workerpool]
plugin_paths = ${FIXTURE_PLUGINS}, ${WORKSPACE_PLUGINS}
enabled = ${enabled.join(', ')}
shutdown_timeout = 10
log_level = debug

${sections}
`;
}

export const startDispatcher = (configFile: string) =>
  new Program('dispatcher', ['-c', configFile]);
export const startPool = (configFile: string) => new Program('workerpool', ['-c', configFile]);
export const startApi = (configFile: string) => new Program('api', ['-c', configFile]);
