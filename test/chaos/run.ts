/**
 * `npm run test:chaos [-- a c …]`: runs the chaos scenarios (all, or those named by letter or
 * full name) one after another through the real programs, on private RabbitMQ nodes.
 *
 * stdout carries only the table: a header, one row per scenario
 * (`scenario sent received duplicates lost faults seconds`) and a last line `N passed, N failed`.
 * Progress, notes and the reasons of failures go to stderr. Exit status 1 when a scenario failed.
 *
 * CHAOS_SEED=N replays a run's random choices; CHAOS_KEEP_LOGS=1 keeps the programs' and nodes'
 * logs of passing scenarios too (failing ones always keep them, under $TMPDIR/tq-chaos-PID/).
 */
import { existsSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/programs.js';
import {
  formatRow,
  type Harness,
  runScenario,
  type Scenario,
  TABLE_HEADER,
} from './harness/harness.js';
import { say } from './harness/util.js';
import { SCENARIOS } from './scenarios/index.js';

function select(args: string[]) {
  if (args.length === 0) return SCENARIOS;
  const chosen: Scenario[] = [];
  for (const arg of args) {
    const found = SCENARIOS.find((s) => s.name === arg || s.name.split('-')[0] === arg);
    if (!found) {
      process.stderr.write(
        `unknown scenario "${arg}"; known: ${SCENARIOS.map((s) => s.name).join(', ')}\n`,
      );
      process.exit(2);
    }
    if (!chosen.includes(found)) chosen.push(found);
  }
  return chosen;
}

const scenarios = select(process.argv.slice(2));
for (const entry of ['dist/dispatcher/main.js', 'dist/workerpool/main.js']) {
  if (!existsSync(join(ROOT, entry))) {
    process.stderr.write(`${entry} is missing: run npm run build first\n`);
    process.exit(2);
  }
}

const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : Date.now() % 1_000_000_007;
if (!Number.isSafeInteger(seed)) {
  process.stderr.write(`CHAOS_SEED must be an integer, not "${process.env.CHAOS_SEED}"\n`);
  process.exit(2);
}
say('chaos', `seed ${seed} (CHAOS_SEED=${seed} replays the random choices)`);

let current: Harness | undefined;
let interrupted = false;
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupted) {
    say('chaos', `${signal} again: killing everything now`);
    current?.killNow();
    process.exit(130);
  }
  interrupted = true;
  say('chaos', `${signal}: stopping the current scenario and cleaning up (again to kill at once)`);
  current?.abort(`interrupted by ${signal}`);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// Whatever happens, no program of ours outlives the runner.
process.on('exit', () => current?.killNow());

let passed = 0;
let failed = 0;
console.log(TABLE_HEADER);
for (const [i, scenario] of scenarios.entries()) {
  if (interrupted) break;
  const row = await runScenario(scenario, seed + i, (h) => {
    current = h;
  });
  console.log(formatRow(row));
  if (row.failures.length === 0) passed++;
  else failed++;
}
console.log(`${passed} passed, ${failed} failed`);
// The scenarios' log directories are gone unless kept; so is their parent then.
try {
  rmdirSync(join(tmpdir(), `tq-chaos-${process.pid}`));
} catch {
  // logs kept
}
process.exit(interrupted ? 130 : failed > 0 ? 1 : 0);
