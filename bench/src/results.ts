/** The raw rows, one JSON object a line, under bench/results/ (ignored by git). */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './systems.js';

function commit(): string | undefined {
  try {
    const head = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return dirty ? `${head}+dirty-src` : head;
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
