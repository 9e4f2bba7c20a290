// @ts-check
/**
 * Runs one command for one task: input on stdin, stdout collected (bounded), the tail of stderr
 * kept for error messages, and the whole process group stopped when the task is aborted.
 *
 * Plain node:child_process, not execa (checked against execa 9.6, issue 26): execa's
 * `cancelSignal`, `forceKillAfterDelay` and `cleanup` signal the command's pid alone
 * (`subprocess.kill`), and `cleanup` is off for a `detached` command, whereas this kills the
 * command's whole process group (a pipeline under `shell: yes`, a script's children), on abort
 * and when the worker exits; execa's `maxBuffer` keeps the head of a stream and fails, where this
 * keeps the last STDERR_TAIL_BYTES of stderr; execa waits for stdout/stderr to close, where this
 * stops waiting STDIO_DRAIN_MS after the exit (a background process holding them open). Left to
 * execa would be the spawn and the stdout buffering, for execa and 21 packages at run time that
 * taskqueue-extra would have to ship with the plugin (it ships no node_modules now).
 */
import { spawn } from 'node:child_process';
import { NonRetryableError } from '@taskqueue/plugin-api';

/** @typedef {import('@taskqueue/plugin-api').TaskLogger} TaskLogger */
/** @typedef {import('./settings.js').CommandSpec} CommandSpec */
/** @typedef {import('node:child_process').ChildProcessWithoutNullStreams} Child */

/** Milliseconds between SIGTERM and SIGKILL when a running command must stop. */
export const KILL_GRACE_MS = 5000;

/** Most stdout a command may write; a result larger than this is refused. */
export const MAX_STDOUT_BYTES = 64 * 1024 * 1024;

/** How much of the end of stderr an error message quotes. */
export const STDERR_TAIL_BYTES = 2048;

/**
 * Milliseconds to wait, after the command exited, for its stdout and stderr to close. They stay
 * open when it left a background process behind that inherited them; the task must not hang on
 * that process.
 */
export const STDIO_DRAIN_MS = 2000;

/** The commands running in this process, stopped if it exits before they finish. */
/** @type {Set<Child>} */
const running = new Set();
let exitHookInstalled = false;

/** A command that could not be started, exited non-zero, or was killed by a signal. */
export class CommandFailedError extends Error {
  /**
   * @param {string} message
   * @param {{ exitCode?: number | null, signal?: string | null, stderrTail?: string, cause?: unknown }} details
   */
  constructor(message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'CommandFailedError';
    /** The exit code, or null when the command did not exit normally. */
    this.exitCode = details.exitCode ?? null;
    /** The signal that killed the command, or null. */
    this.signal = details.signal ?? null;
    /** The last {@link STDERR_TAIL_BYTES} of the command's stderr. */
    this.stderrTail = details.stderrTail ?? '';
  }
}

/**
 * @typedef {object} RunOptions
 * @property {CommandSpec} spec what to run
 * @property {NodeJS.ProcessEnv} env its complete environment
 * @property {string} input what to write to its stdin
 * @property {AbortSignal} signal stops the command when it fires
 * @property {number} [killGraceMs] SIGTERM → SIGKILL delay (default {@link KILL_GRACE_MS})
 * @property {TaskLogger} logger
 */

/**
 * @param {RunOptions} options
 * @returns {Promise<{ stdout: string, stderrTail: string }>} stdout as UTF-8 text, when the
 *   command exited with status 0
 * @throws {CommandFailedError} when it did not start, exited non-zero or was killed
 * @throws {NonRetryableError} when it wrote more than {@link MAX_STDOUT_BYTES} to stdout
 * @throws {Error} (name `AbortError`, cause = the signal's reason) when the signal fired
 */
export function runCommand({ spec, env, input, signal, killGraceMs = KILL_GRACE_MS, logger }) {
  if (signal.aborted) return Promise.reject(abortError(spec, signal));

  return new Promise((resolve, reject) => {
    /** @type {Child} */
    let child;
    try {
      // detached: the command leads a process group of its own, so that stopping it also stops
      // what it started (the parts of a pipeline, the children of a script).
      child = spawn(spec.file, spec.args, { cwd: spec.cwd, env, stdio: 'pipe', detached: true });
    } catch (err) {
      reject(new CommandFailedError(`cannot run ${spec.label}: ${message(err)}`, { cause: err }));
      return;
    }
    running.add(child);
    installExitHook();

    /** @type {Buffer[]} */
    const stdout = [];
    let stdoutBytes = 0;
    let stderrTail = Buffer.alloc(0);
    let stderrBytes = 0;
    /** @type {Error | undefined} */
    let spawnError;
    let aborted = false;
    let overflowed = false;
    let terminating = false;
    let settled = false;
    /** @type {NodeJS.Timeout | undefined} */
    let killTimer;
    /** @type {NodeJS.Timeout | undefined} */
    let drainTimer;

    const terminate = () => {
      if (terminating) return;
      terminating = true;
      signalGroup(child, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(child, 'SIGKILL'), killGraceMs);
    };
    const onAbort = () => {
      aborted = true;
      logger.warn({ command: spec.label, pid: child.pid }, 'task aborted: stopping the command');
      terminate();
    };
    signal.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (/** @type {Buffer} */ chunk) => {
      if (overflowed) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_STDOUT_BYTES) {
        overflowed = true;
        stdout.length = 0;
        terminate();
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.on('data', (/** @type {Buffer} */ chunk) => {
      stderrBytes += chunk.length;
      const joined = Buffer.concat([stderrTail, chunk]);
      stderrTail = joined.subarray(Math.max(0, joined.length - STDERR_TAIL_BYTES));
    });
    // A command that does not read its input (or exits early) closes the pipe under us.
    child.stdin.on('error', (/** @type {NodeJS.ErrnoException} */ err) => {
      if (err.code !== 'EPIPE') logger.warn({ err, command: spec.label }, 'cannot write stdin');
    });
    child.stdin.end(input);

    child.on('error', (err) => {
      spawnError ??= err;
      if (child.pid === undefined) finish(null, null);
    });
    child.on('exit', () => {
      drainTimer = setTimeout(() => {
        logger.warn(
          { command: spec.label, pid: child.pid },
          'the command exited but a process it left behind holds its stdout/stderr open; ignoring it',
        );
        child.stdout.destroy();
        child.stderr.destroy();
      }, STDIO_DRAIN_MS);
    });
    child.on('close', (code, sig) => finish(code, sig));

    /**
     * @param {number | null} code
     * @param {NodeJS.Signals | null} sig
     */
    function finish(code, sig) {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      clearTimeout(drainTimer);
      signal.removeEventListener('abort', onAbort);
      running.delete(child);
      // Whatever the stopped command left behind in its group goes too.
      if (terminating) signalGroup(child, 'SIGKILL');

      const tail = decodeTail(stderrTail, stderrBytes > STDERR_TAIL_BYTES);
      const details = { exitCode: code, signal: sig, stderrTail: tail };
      if (child.pid === undefined) {
        const why = spawnError ? message(spawnError) : 'spawn failed';
        reject(new CommandFailedError(`cannot run ${spec.label}: ${why}`, { cause: spawnError }));
      } else if (aborted) {
        reject(abortError(spec, signal));
      } else if (overflowed) {
        reject(
          new NonRetryableError(
            `${spec.label} wrote more than ${MAX_STDOUT_BYTES / 1024 / 1024} MiB to stdout; ` +
              'it was stopped and its output discarded',
          ),
        );
      } else if (sig !== null) {
        reject(
          new CommandFailedError(`${spec.label} was killed by ${sig}${stderrPart(tail)}`, details),
        );
      } else if (code !== 0) {
        reject(
          new CommandFailedError(
            `${spec.label} exited with code ${code}${stderrPart(tail)}`,
            details,
          ),
        );
      } else {
        if (tail !== '') logger.debug({ command: spec.label, stderr: tail }, 'command stderr');
        resolve({ stdout: Buffer.concat(stdout).toString('utf8'), stderrTail: tail });
      }
    }
  });
}

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Detached commands would outlive the worker; an exit handler can only act synchronously, so
  // SIGKILL it is.
  process.on('exit', () => {
    for (const child of running) signalGroup(child, 'SIGKILL');
  });
}

/**
 * Sends `sig` to the command's process group, or to the command alone if the group is gone.
 *
 * @param {Child} child
 * @param {NodeJS.Signals} sig
 */
function signalGroup(child, sig) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    try {
      child.kill(sig);
    } catch {
      // Already gone.
    }
  }
}

/**
 * @param {CommandSpec} spec
 * @param {AbortSignal} signal
 */
function abortError(spec, signal) {
  const reason = signal.reason;
  const why = reason instanceof Error ? reason.message : String(reason ?? 'aborted');
  const err = new Error(`${spec.label} was stopped: the task was aborted (${why})`, {
    cause: reason,
  });
  err.name = 'AbortError';
  return err;
}

/**
 * @param {Buffer} tail
 * @param {boolean} truncated
 */
function decodeTail(tail, truncated) {
  let text = tail.toString('utf8');
  // The cut may fall inside a multi-byte character.
  if (truncated) text = `…${text.replace(/^\uFFFD+/, '')}`;
  return text.trimEnd();
}

/** @param {string} tail */
function stderrPart(tail) {
  return tail === '' ? ' (no output on stderr)' : `; stderr:\n${tail}`;
}

/** @param {unknown} err */
function message(err) {
  return err instanceof Error ? err.message : String(err);
}
