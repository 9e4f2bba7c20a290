/**
 * `node bench/dist/host-api-cost.js [RUNS]`: what the host-provided API costs a child. Loads the
 * echo plugin the way a child does (loadWorker, then one task) in fresh Node processes with the
 * child's V8 flags, alternately from the checkout (it resolves its own @taskqueue/plugin-api: no
 * hooks) and from a copy outside any node_modules (it cannot: the resolve hooks are registered,
 * with their loader thread). Prints the median time from process start to the task's result,
 * and the RSS then. No broker involved. Figures: bench/FINDINGS.md, _The host-provided API_.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TASKQUEUE_DIR } from './systems.js';

const runs = Number(process.argv[2] ?? 30);
const dist = (path: string) => pathToFileURL(join(TASKQUEUE_DIR, 'dist', path)).href;

/** Run in each fresh process: what a child does before its first task, then that task. */
const probe = `
const { loadWorker } = await import(${JSON.stringify(dist('workerpool/discovery/load.js'))});
const { readPluginPackage } = await import(${JSON.stringify(dist('workerpool/discovery/package-info.js'))});
const worker = await loadWorker(readPluginPackage(process.argv[1]));
await worker.handleTask({ fields: {} }, {});
const ms = process.uptime() * 1000;
console.log(JSON.stringify({ ms, rssMiB: process.memoryUsage.rss() / 1048576 }));
`;

interface Sample {
  ms: number;
  rssMiB: number;
}

function sample(pluginDir: string): Sample {
  const out = execFileSync(
    process.execPath,
    ['--max-semi-space-size=1', '--v8-pool-size=1', '--input-type=module', '-e', probe, pluginDir],
    {
      encoding: 'utf8',
    },
  );
  return JSON.parse(out) as Sample;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const scratch = mkdtempSync(join(tmpdir(), 'tq-host-api-cost-'));
try {
  const isolated = join(scratch, 'taskqueue-plugin-echo');
  mkdirSync(isolated);
  for (const file of ['index.js', 'package.json']) {
    cpSync(join(TASKQUEUE_DIR, 'plugins/echo', file), join(isolated, file));
  }
  const variants = {
    'own copy (no hooks)': join(TASKQUEUE_DIR, 'plugins/echo'),
    "host's copy (hooks)": isolated,
  };
  const samples = new Map<string, Sample[]>(Object.keys(variants).map((name) => [name, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, dir] of Object.entries(variants)) samples.get(name)!.push(sample(dir));
  }
  console.log(`${runs} runs each, medians (min–max):`);
  for (const [name, list] of samples) {
    const ms = list.map((s) => s.ms);
    const rss = list.map((s) => s.rssMiB);
    console.log(
      `${name.padEnd(22)} start to first result ${median(ms).toFixed(1)} ms (${Math.min(...ms).toFixed(1)}–${Math.max(...ms).toFixed(1)}), RSS ${median(rss).toFixed(1)} MiB (${Math.min(...rss).toFixed(1)}–${Math.max(...rss).toFixed(1)})`,
    );
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
