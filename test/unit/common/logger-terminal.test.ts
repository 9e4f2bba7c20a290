import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tq-logger-terminal-'));
const program = join(dir, 'log-once.mjs');
writeFileSync(
  program,
  `import { createLogger } from ${JSON.stringify(join(ROOT, 'dist/common/logger.js'))};
createLogger('tq-terminal-test').info({ n: 1 }, 'hello');
process.stderr.write(JSON.stringify(process.moduleLoadList.filter((m) => /\\btty\\b/.test(m))));
`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
