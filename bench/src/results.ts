/** The raw rows, one JSON object a line, under bench/results/ (ignored by git). */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { ROOT, TASKQUEUE_DIR } from './systems.js';

function git(...args: string[]): string {
  return execFileSync('git', ['-C', TASKQUEUE_DIR, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
}

/** The commit of the taskqueue measured (BENCH_TASKQUEUE_DIR may name another checkout). */
function commit(): string | undefined {
  try {
    const head = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'src', 'systemd');
    return dirty ? `${head}+dirty` : head;
  } catch {
    return undefined;
  }
}

export class ResultsFile {
  readonly path: string;

  constructor(mode: string, meta: Record<string, unknown>) {
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    this.path = join(dir, `${stamp}-${mode}.jsonl`);
    this.write({
      type: 'meta',
      at: new Date().toISOString(),
      commit: commit(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      loadavg: loadavg(),
      ...meta,
    });
  }

  write(row: object): void {
    appendFileSync(this.path, `${JSON.stringify(row)}\n`);
  }
}
