/**
 * The comparison: per variant, rounds of every chosen system in turn (ceiling, taskqueue, then
 * the anchors: A B C D A B C D ...), so that drift in the machine's load (it is shared) hits
 * all systems alike.
 */
import { readFileSync } from 'node:fs';
import type { ResultsFile } from './results.js';
import { type BenchContext, baseRow, measure, type RunRow } from './run.js';
import { type SystemKind, systemsOf } from './system-kinds.js';
import { describeVariant, overallTable, variantTable } from './table.js';
import type { Variant } from './variants.js';

function tail(file: string, lines = 8): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n      ');
  } catch {
    return '(no output)';
  }
}

async function measureOrError(
  ctx: BenchContext,
  v: Variant,
  kind: SystemKind,
  roundNo: number,
): Promise<RunRow> {
  const t0 = Date.now();
  try {
    const row = await measure(ctx, v, kind, roundNo);
    ctx.log(
      `  round ${roundNo} ${kind.padEnd(15)} ${row.tasksPerSec!.toFixed(0).padStart(6)} tasks/s, ` +
        `p50 ${row.latencyMs!.p50.toFixed(2)} ms, ` +
        `${row.cpuMsPerTask!.system.toFixed(3)} CPU ms/task ` +
        `(${((Date.now() - t0) / 1000).toFixed(1)} s, steal ${row.stealPct ?? '-'} %)`,
    );
    return row;
  } catch (err) {
    const e = err as Error & { logFiles?: string[] };
    if (ctx.interrupted()) return { ...baseRow(v, kind, roundNo), error: 'interrupted' };
    ctx.log(`  round ${roundNo} ${kind.padEnd(15)} FAILED: ${e.message}`);
    for (const file of e.logFiles ?? []) ctx.log(`    ${file}:\n      ${tail(file)}`);
    return { ...baseRow(v, kind, roundNo), error: e.message };
  }
}

/** Runs every variant; resolves with whether every run gave a figure. */
export async function runMatrix(
  ctx: BenchContext,
  variants: Variant[],
  results: ResultsFile,
  systems: readonly SystemKind[],
): Promise<boolean> {
  const all: RunRow[] = [];
  for (const v of variants) {
    const kinds = systemsOf(systems, v.anchored, v.queueType);
    if (kinds.length === 0) continue;
    ctx.log(`\n--- ${describeVariant(v)}; systems ${kinds.join(', ')}`);
    const rows: RunRow[] = [];
    for (let r = 1; r <= v.rounds; r++) {
      for (const kind of kinds) {
        if (ctx.interrupted()) return false;
        const row = await measureOrError(ctx, v, kind, r);
        results.write(row);
        rows.push(row);
      }
    }
    all.push(...rows);
    console.log(variantTable(v, rows, kinds));
  }
  console.log(overallTable(variants, all, systems));
  return all.every((r) => r.error === undefined);
}
