import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = `${root}completion/taskqueue.bash`;
const specExample = `${root}test/fixtures/config/spec-example.ini`;

/** What bash offers for the command line `words` (the last word is the one being completed). */
function complete(words: string[], fn = '_taskqueue'): string[] {
  // The words travel as arguments, not in the script text: no quoting to get wrong.
  const program = [
    'source "$1"; shift',
    'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()',
    `${fn}`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's array expansion, not a template.
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const out = execFileSync('bash', ['-c', program, 'bash', script, ...words], {
    cwd: root,
    encoding: 'utf8',
  });
  return out.split('\n').filter((line) => line !== '');
}

describe('bash completion', () => {
  it('completes the commands', () => {
    expect(complete(['taskqueue', 'sub'])).toEqual(['submit']);
    expect(complete(['taskqueue', '']).sort()).toEqual(
      [
        'check-config',
        'dead',
        'plugins',
        'purge',
        'queues',
        'results',
        'run-task',
        'status',
        'submit',
        'task',
        'tasks',
        'retry',
        'cancel',
      ].sort(),
    );
  });

  it('offers every command that src/cli/main.ts defines', () => {
    const main = readFileSync(`${root}src/cli/main.ts`, 'utf8');
    const defined = [...main.matchAll(/\.command\(\s*'([a-z-]+)/g)].map((m) => m[1]);
    expect(defined.length).toBeGreaterThan(0);
    expect(complete(['taskqueue', '']).sort()).toEqual(defined.sort());
  });

  it("completes a command's options", () => {
    expect(complete(['taskqueue', 'results', '--p']).sort()).toEqual(['--peek', '--properties']);
    expect(complete(['taskqueue', 'check-config', '--f'])).toEqual(['--for-other-host']);
    expect(complete(['taskqueue', 'plugins', '--no'])).toEqual(['--no-load']);
    expect(complete(['taskqueue', 'run-task', 'echo', '--g'])).toEqual(['--group']);
    expect(complete(['taskqueue', 'retry', 'abc', '--j'])).toEqual(['--json']);
    expect(complete(['taskqueue', 'cancel', '--token-'])).toEqual(['--token-file']);
  });

  it("completes submit's and run-task's TYPE with the worker types of the -c file, not its instances", () => {
    expect(complete(['taskqueue', '-c', specExample, 'submit', '']).sort()).toEqual([
      'worker1',
      'worker2',
    ]);
    expect(complete(['taskqueue', 'submit', 'worker1', '--w'])).toEqual(['--wait']);
    expect(complete(['taskqueue', '-c', specExample, 'run-task', 'w']).sort()).toEqual([
      'worker1',
      'worker2',
    ]);
  });

  it("completes the daemons' options", () => {
    expect(complete(['taskqueue-workerpool', '--f'], '_taskqueue_daemon')).toEqual([
      '--foreground',
    ]);
  });
});
