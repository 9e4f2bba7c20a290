import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const program = fileURLToPath(new URL('../../fixtures/programs/log-once.mjs', import.meta.url));

/** The environment of a program whose stdout decides the format by itself. */
function environment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.TASKQUEUE_LOG_PRETTY;
  return env;
}

describe('the logger of a real program', () => {
  it('writes JSON lines to a pipe, without loading node:tty to find out', () => {
    const run = spawnSync(process.execPath, [program], { env: environment(), encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ level: 30, name: 'tq-terminal-test', n: 1 });
    expect(JSON.parse(run.stderr)).toEqual([]);
  });

  it('writes human-readable lines to a terminal', () => {
    // util-linux's script runs the program on a pseudo-terminal and copies what it writes.
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(program)}`;
    const run = spawnSync('script', ['-qec', command, '/dev/null'], {
      env: environment(),
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/INFO.*\(tq-terminal-test\/\d+\).*hello/);
    expect(run.stdout).not.toContain('"msg"');
    expect(run.stdout).toContain('NativeModule tty');
  });
});
