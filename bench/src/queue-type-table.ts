/**
 * Classic against quorum queues from the bench's raw rows: `node bench/dist/queue-type-table.js
 * bench/results/A.jsonl [B.jsonl ...]` prints, per broker, variant and system, tasks/s and what
 * the broker spent per task on each queue type (CPU, fsync + fdatasync calls, KiB written to
 * storage), as a Markdown table (bench/FINDINGS.md, _Quorum queues_). Medians over rounds, and
 * over the files of one broker version.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RunRow } from './run.js';
import { median, round } from './stats.js';

type Row = Pick<RunRow, 'variant' | 'system' | 'tasksPerSec' | 'cpuMsPerTask' | 'brokerDisk'>;

interface Figures {
  tasksPerSec: number;
  brokerCpuMs: number | null;
  syncs: number | null;
  writeKiB: number | null;
}

const SUFFIX = '-quorum';

function figuresOf(rows: Row[]): Figures {
  const med = (pick: (r: Row) => number | null | undefined) => {
    const values = rows.map(pick).filter((x): x is number => typeof x === 'number');
    return values.length > 0 ? median(values) : null;
  };
  const syncs = (r: Row) => {
    const s = r.brokerDisk?.syncsPerTask;
    return s ? Object.values(s).reduce((a, b) => a + b, 0) : undefined;
  };
  return {
    tasksPerSec: med((r) => r.tasksPerSec) ?? 0,
    brokerCpuMs: med((r) => r.cpuMsPerTask?.broker),
    syncs: med(syncs),
    writeKiB: med((r) => r.brokerDisk?.writeKiBPerTask),
  };
}

const show = (x: number | null, digits: number) => (x === null ? '–' : `${round(x, digits)}`);
const pair = (a: number | null, b: number | null, digits: number) =>
  `${show(a, digits)} → ${show(b, digits)}`;

/** The table's lines for one broker's rows: a variant with rows on both queue types only. */
export function queueTypeTable(broker: string, rows: Row[]): string[] {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    if (r.tasksPerSec === undefined) continue; // a failed run
    const key = `${r.variant}\t${r.system}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const lines: string[] = [];
  for (const [key, classicRows] of groups) {
    const [variant, system] = key.split('\t') as [string, string];
    if (variant.endsWith(SUFFIX)) continue;
    const quorumRows = groups.get(`${variant}${SUFFIX}\t${system}`);
    if (!quorumRows) continue;
    const c = figuresOf(classicRows);
    const q = figuresOf(quorumRows);
    lines.push(
      `| ${broker} | ${variant} | ${system} | ${round(c.tasksPerSec, 0)} | ` +
        `${round(q.tasksPerSec, 0)} | ×${round(q.tasksPerSec / c.tasksPerSec, 2)} | ` +
        `${pair(c.brokerCpuMs, q.brokerCpuMs, 2)} | ${pair(c.syncs, q.syncs, 3)} | ` +
        `${pair(c.writeKiB, q.writeKiB, 1)} |`,
    );
  }
  return lines;
}

export const HEADER = [
  '| RabbitMQ | variant | system | classic/s | quorum/s | quorum/classic | broker CPU ms/task | fsyncs/task | disk KiB/task |',
  '| --- | --- | --- | ---: | ---: | ---: | --- | --- | --- |',
];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: node bench/dist/queue-type-table.js RESULTS.jsonl...');
    process.exit(2);
  }
  console.log(HEADER.join('\n'));
  // Rows of several files on one broker version are one sample: medians over all their rounds.
  const byBroker = new Map<string, Row[]>();
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as { type: string; broker?: string } & Row);
    const meta = parsed.find((r) => r.type === 'meta');
    const broker = /RabbitMQ [\d.]+/.exec(meta?.broker ?? '')?.[0] ?? meta?.broker ?? file;
    byBroker.set(broker, [
      ...(byBroker.get(broker) ?? []),
      ...parsed.filter((r) => r.type === 'run'),
    ]);
  }
  for (const [broker, rows] of byBroker)
    for (const line of queueTypeTable(broker, rows)) console.log(line);
}
