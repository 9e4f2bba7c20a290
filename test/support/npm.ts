/**
 * npm as the registry suite runs it: as a program, with an environment the test chooses, and a
 * failure that carries npm's whole output (an `npm ERR!` is useless without the lines before it).
 */
import { execFile } from 'node:child_process';

export interface NpmRun {
  stdout: string;
  stderr: string;
  /** Wall time of the call, for the suite's timing lines. */
  ms: number;
}

export class NpmFailed extends Error {
  override name = 'NpmFailed';
}

/**
 * The environment for npm without what the test's own npm left in it: `npm test` exports
 * `npm_config_*`, `npm_package_*` and `npm_lifecycle_*`, which would otherwise reach (and
 * reconfigure) every npm the test starts. `config` becomes `npm_config_<key>` variables, which
 * nested npm calls (a lifecycle script's `npm run build`) inherit, unlike command-line flags.
 */
export function npmEnv(config: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key)) env[key] = value;
  }
  for (const [key, value] of Object.entries(config)) env[`npm_config_${key}`] = value;
  return env;
}

/** Runs `npm ...args` in `cwd` to its end; rejects with npm's output when it fails. */
export function runNpm(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number; input?: string },
): Promise<NpmRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = execFile(
      'npm',
      args,
      {
        cwd: options.cwd,
        env: options.env,
        timeout: options.timeoutMs ?? 300_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const ms = Date.now() - started;
        if (!err) {
          resolve({ stdout, stderr, ms });
          return;
        }
        const how = err.killed ? `killed (${err.signal ?? 'timeout'})` : `exit ${String(err.code)}`;
        reject(
          new NpmFailed(
            `npm ${args.join(' ')} in ${options.cwd} failed after ${ms} ms: ${how}\n` +
              `--- stdout\n${stdout}--- stderr\n${stderr}`,
          ),
        );
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}
