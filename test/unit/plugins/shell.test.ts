import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ShellWorker, { MAX_STDOUT_BYTES } from '../../../plugins/shell/index.js';

type Workitem = Parameters<ShellWorker['handleTask']>[0];

const silent = { debug() {}, info() {}, warn() {}, error() {} };

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'taskqueue-shell-test-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function workitem(fields: Record<string, unknown> = {}): Workitem {
  return { fields: { params: { worker_type: 'shell' }, ...fields }, wfid: 'wf-1' };
}

async function startWorker(settings: Record<string, string>, instance?: string) {
  const worker = new ShellWorker();
  await worker.setup({ type: 'shell', instance, settings, logger: silent });
  return worker;
}

function run(
  worker: ShellWorker,
  settings: Record<string, string>,
  input: Workitem,
  signal = new AbortController().signal,
) {
  return worker.handleTask(input, { settings, logger: silent, signal, attempt: 1, taskId: 't1' });
}

/** Sets up a worker for `settings` and runs one task. */
async function runTask(settings: Record<string, string>, input: Workitem = workitem()) {
  return run(await startWorker(settings), settings, input);
}

async function failure(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

/** True while `pid` is a live process (a zombie waiting for its reaper counts as dead). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

async function waitFor(check: () => boolean, ms: number) {
  const until = Date.now() + ms;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  return check();
}

describe('taskqueue-plugin-shell: results', () => {
  it('command = cat returns the input workitem', async () => {
    const input = workitem({ answer: 42, nested: { list: [1, 'two', null] }, text: 'héllo "x"' });
    expect(await runTask({ command: 'cat' }, input)).toEqual(input);
  });

  it('returns the JSON object the command prints', async () => {
    const result = await runTask({
      shell: 'yes',
      command: `cat >/dev/null; printf '{"fields": {"done": true}, "n": %d}\\n' 7`,
    });
    expect(result).toEqual({ fields: { done: true }, n: 7 });
  });

  it('returns the input workitem itself when stdout is empty', async () => {
    const input = workitem({ keep: 'me' });
    expect(await runTask({ command: 'true' }, input)).toBe(input);
  });

  it('works with a command that does not read its (large) stdin', async () => {
    const input = workitem({ blob: 'x'.repeat(4 * 1024 * 1024) });
    expect(await runTask({ shell: 'yes', command: `echo '{"ok": true}'` }, input)).toEqual({
      ok: true,
    });
  });

  it('runs in cwd with env_* variables and the task ids in its environment', async () => {
    const result = await runTask({
      shell: 'yes',
      cwd: dir,
      env_greeting: 'hi there',
      command:
        'printf \'{"pwd": "%s", "greeting": "%s", "task": "%s", "attempt": "%s", "type": "%s"}\' ' +
        '"$(pwd -P)" "$GREETING" "$TASKQUEUE_TASK_ID" "$TASKQUEUE_ATTEMPT" "$TASKQUEUE_WORKER_TYPE"',
    });
    expect(result).toEqual({
      pwd: realpathSync(dir),
      greeting: 'hi there',
      task: 't1',
      attempt: '1',
      type: 'shell',
    });
  });
});

describe('taskqueue-plugin-shell: the sender-chosen task id in the environment', () => {
  const countWords = {
    shell: 'yes',
    // Unquoted on purpose: what a careless command line does.
    command: 'set -- $TASKQUEUE_TASK_ID; printf \'{"words": %d, "first": "%s"}\' $# "$1"',
  };
  const runWithId = async (taskId: string) => {
    const worker = await startWorker(countWords);
    const signal = new AbortController().signal;
    return worker.handleTask(workitem(), {
      settings: countWords,
      logger: silent,
      signal,
      attempt: 1,
      taskId,
    });
  };

  it('passes an id of safe characters on as it is', async () => {
    expect(await runWithId('wf-1:step_2.a')).toEqual({ words: 1, first: 'wf-1:step_2.a' });
  });

  it('replaces an id that would split, glob or look like an option by a hash of it', async () => {
    for (const id of ['x --output=/etc/passwd /*', '-rf', 'a$(id)b', '']) {
      const result = (await runWithId(id)) as unknown as { words: number; first: string };
      expect(result.words, id).toBe(1);
      expect(result.first, id).toMatch(/^sha256-[0-9a-f]{32}$/);
    }
    expect(await runWithId('-rf')).toEqual(await runWithId('-rf'));
  });
});

describe('taskqueue-plugin-shell: the command comes from the settings only', () => {
  it('runs the configured argv and ignores commands in the workitem', async () => {
    const script = join(dir, 'record-argv.sh');
    const argvFile = join(dir, 'argv.txt');
    const canary = join(dir, 'canary');
    writeFileSync(script, '#!/bin/sh\nprintf \'%s\\n\' "$0" "$@" > "$ARGV_FILE"\ncat\n');
    chmodSync(script, 0o755);
    const input: Workitem = {
      command: `touch ${canary}`,
      fields: {
        command: `touch ${canary}`,
        shell: 'yes',
        params: { worker_type: 'shell', command: `touch ${canary}`, cmd: 'rm -rf /' },
      },
    };

    const result = await runTask(
      { command: `${script} one 'two words' "three \\"quoted\\""`, env_argv_file: argvFile },
      input,
    );

    expect(result).toEqual(input);
    expect(readFileSync(argvFile, 'utf8')).toBe(`${script}\none\ntwo words\nthree "quoted"\n`);
    expect(existsSync(canary)).toBe(false);
  });

  it('does not use a shell unless shell = yes', async () => {
    // Without a shell, ">" and the words around it would reach echo as arguments: refused.
    const err = await failure(startWorker({ command: `echo {} > ${join(dir, 'x')}` }));
    expect(err.message).toMatch(/"command".*\[shell\].*shell = yes/s);
    // Quoted, they are plain arguments: no file "x" appears in cwd.
    const result = await runTask({
      cwd: dir,
      command: `printf '{"a": "%s", "b": "%s"}' '>' x`,
    });
    expect(result).toEqual({ a: '>', b: 'x' });
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});

describe('taskqueue-plugin-shell: failures', () => {
  it('a non-zero exit fails with the code and the stderr tail', async () => {
    const err = await failure(
      runTask({ shell: 'yes', command: 'echo "disk on fire" >&2; exit 3' }),
    );
    expect(err.message).toMatch(/exited with code 3/);
    expect(err.message).toContain('disk on fire');
    expect(err.exitCode).toBe(3);
    expect(err.nonRetryable).not.toBe(true);
  });

  it('quotes only the last 2 KiB of a long stderr', async () => {
    const err = await failure(
      runTask({
        shell: 'yes',
        command: 'head -c 100000 /dev/zero | tr "\\0" a >&2; echo THE-END >&2; exit 1',
      }),
    );
    expect(err.message).toContain('THE-END');
    expect(err.message.length).toBeLessThan(2300);
  });

  it('death by a signal fails naming the signal', async () => {
    const err = await failure(runTask({ shell: 'yes', command: 'kill -KILL $$' }));
    expect(err.message).toMatch(/killed by SIGKILL/);
    expect(err.signal).toBe('SIGKILL');
  });

  it('stdout that is not JSON fails, non-retryable, quoting its first 200 characters', async () => {
    const err = await failure(runTask({ shell: 'yes', command: `printf 'hello world %01000d' 0` }));
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(/not JSON/);
    expect(err.message).toContain(`hello world ${'0'.repeat(188)}`);
    expect(err.message).not.toContain('0'.repeat(189));
  });

  it('JSON that is not an object fails, non-retryable', async () => {
    const err = await failure(runTask({ shell: 'yes', command: 'echo "[1, 2]"' }));
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(/not an object/);
  });

  it(`stdout beyond ${MAX_STDOUT_BYTES / 1024 / 1024} MiB fails, non-retryable`, async () => {
    const err = await failure(
      runTask({ shell: 'yes', command: `head -c ${MAX_STDOUT_BYTES + 4096} /dev/zero` }),
    );
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(/more than 64 MiB/);
  });
});

describe('taskqueue-plugin-shell: abort', () => {
  it('an aborted signal kills `sleep 30` at once', async () => {
    const settings = { command: 'sleep 30' };
    const worker = await startWorker(settings);
    const ac = new AbortController();
    const started = Date.now();
    const task = run(worker, settings, workitem(), ac.signal);
    setTimeout(() => ac.abort(new Error('timeout')), 200);

    const err = await failure(task);
    expect(err.name).toBe('AbortError');
    expect(err.message).toMatch(/aborted \(timeout\)/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('stops the whole process group, children included', async () => {
    const pidFile = join(dir, 'bg.pid');
    const settings = { shell: 'yes', command: `sleep 30 & echo $! > ${pidFile}; wait` };
    const worker = await startWorker(settings);
    const ac = new AbortController();
    const task = run(worker, settings, workitem(), ac.signal);
    expect(
      await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '', 2000),
    ).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);

    ac.abort();
    await failure(task);
    expect(await waitFor(() => !alive(pid), 2000)).toBe(true);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const pidFile = join(dir, 'stubborn.pid');
    const settings = {
      shell: 'yes',
      command: `trap '' TERM; sleep 30 & echo $! > ${pidFile}; wait`,
    };
    const worker = await startWorker(settings);
    worker.killGraceMs = 300;
    const ac = new AbortController();
    const task = run(worker, settings, workitem(), ac.signal);
    expect(
      await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '', 2000),
    ).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8'));

    const started = Date.now();
    ac.abort();
    await failure(task);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(await waitFor(() => !alive(pid), 2000)).toBe(true);
  });

  it('does not start the command when the signal has already fired', async () => {
    const marker = join(dir, 'started');
    const settings = { shell: 'yes', command: `touch ${marker}` };
    const worker = await startWorker(settings);
    const ac = new AbortController();
    ac.abort();
    const err = await failure(run(worker, settings, workitem(), ac.signal));
    expect(err.name).toBe('AbortError');
    expect(existsSync(marker)).toBe(false);
  });
});

describe('taskqueue-plugin-shell: setup validates the settings', () => {
  it('a missing command fails setup, naming the key and the section', async () => {
    const err = await failure(startWorker({}));
    expect(err.message).toMatch(/"command".*\[shell\].*required/);
    const blank = await failure(startWorker({ command: '   ' }, 'fast'));
    expect(blank.message).toMatch(/"command".*\[shell_fast\] \(or \[shell\]\).*required/);
  });

  it('a program that cannot be found fails setup', async () => {
    const err = await failure(startWorker({ command: 'no-such-program-taskqueue --x' }));
    expect(err.message).toMatch(/"no-such-program-taskqueue" is not found in PATH/);
    const path = await failure(startWorker({ command: join(dir, 'nothing-here') }));
    expect(path.message).toMatch(/is not an executable file/);
  });

  it('finds programs in the PATH set by env_path', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'my-tool'), '#!/bin/sh\necho \'{"tool": true}\'\n');
    chmodSync(join(bin, 'my-tool'), 0o755);
    expect(await runTask({ command: 'my-tool', env_path: `${bin}:/usr/bin:/bin` })).toEqual({
      tool: true,
    });
  });

  it.each([
    [{ command: 'cat', cwd: 'relative/dir' }, /"cwd".*absolute path/],
    [{ command: 'cat', cwd: '/nonexistent/taskqueue' }, /"cwd".*not a directory/],
    [{ command: 'cat', shell: 'maybe' }, /"shell".*yes or no.*"maybe"/],
    [{ command: `echo 'unterminated` }, /"command".*unterminated ' quote/],
    [{ command: 'cat $HOME' }, /"command".*\$ at column 5/],
    [{ command: "''" }, /"command".*names no program/],
    [{ command: 'cat', env_1x: 'y' }, /"env_1x".*environment variable/],
  ])('refuses %o', async (settings, message) => {
    const err = await failure(startWorker(settings));
    expect(err.message).toMatch(message);
    expect(err.message).toContain('[shell]');
  });
});
