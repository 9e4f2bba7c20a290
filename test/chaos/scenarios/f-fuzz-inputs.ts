import { type FuzzCase, fuzzCases } from '../harness/fuzz.js';
import type { Scenario } from '../harness/harness.js';
import { taskNumber } from '../harness/tasks.js';

const FUZZED = 10_000;
const GOOD = 2_500;

/**
 * (f) 10 000 fuzzed inputs mixed with 2 500 good tasks (harness/fuzz.ts): every bad one must land
 * on `taskqueue.invalid` unchanged and with a reason, every good one must be answered, and the
 * cases the contract leaves open must end in one of the two. sent = good + fuzzed,
 * received = results + invalid; faults = fuzzed inputs.
 */
export const scenario: Scenario = {
  name: 'f-fuzz-inputs',
  title: `${FUZZED} fuzzed inputs mixed with ${GOOD} good tasks`,
  limitMs: 360_000,
  async run(h) {
    const cases = fuzzCases(h.random, FUZZED, GOOD);
    const broker = await h.broker();
    // prefetch 5: a task that wedges a child holds one slot, not the child.
    const fleet = h.fleet({ urls: broker.urls, sections: '[echo]\nworkers = 4\nprefetch = 5\n' });
    await fleet.dispatcher();
    await fleet.pool('echo', 4);
    const misrouted: number[] = [];
    const altered: number[] = [];
    const noReason: number[] = [];
    const arrivedAt = new Map<number, string>();
    await h.collect(broker.urls, {
      onFirst: (n, { queue, message }) => {
        const c = cases[n];
        if (!c) return;
        arrivedAt.set(n, queue);
        if (queue === 'taskqueue.invalid') {
          if (c.expect === 'result') misrouted.push(n);
          const sameType = message.properties.contentType === c.options.contentType;
          if (!message.content.equals(c.body) || !sameType) altered.push(n);
          if (typeof message.properties.headers?.['x-taskqueue-error'] !== 'string')
            noReason.push(n);
        } else if (c.expect === 'invalid') {
          misrouted.push(n);
        }
      },
    });
    h.faults += cases.filter((c) => c.expect !== 'result').length;
    h.publish(broker.urls, cases, { window: 300 });
    await h.settle();

    const show = (what: string, numbers: number[]) =>
      `${numbers.length} ${what}: ${numbers
        .slice(0, 8)
        .map((n) => `${n} (${cases[n]!.kind})`)
        .join(', ')}`;
    if (misrouted.length > 0) h.fail(show('misrouted (good parked or bad answered)', misrouted));
    if (altered.length > 0) h.fail(show('parked with a changed body or content_type', altered));
    if (noReason.length > 0) h.fail(show('parked without x-taskqueue-error', noReason));
    report(h, cases, arrivedAt);
    const dead = await h.browse(broker.urls, 'worker_echo.dead', 200).catch(() => []);
    for (const m of dead.slice(0, 5)) {
      const n = taskNumber(m.properties);
      const why = String(m.properties.headers?.['x-taskqueue-error'] ?? '?').slice(0, 160);
      h.note(
        `worker_echo.dead holds task ${n} (${n === undefined ? '?' : cases[n]?.kind}): ${why}`,
      );
    }
    const forwardFailed = fleet.grep(/forward failed/, 'dispatcher', 100_000);
    if (forwardFailed.length > 0) {
      const ids = new Set(forwardFailed.map((l) => /"messageId":"([^"]+)"/.exec(l)?.[1]));
      h.note(
        `dispatcher: ${forwardFailed.length} × "forward failed; requeued" for ${ids.size} message(s) ` +
          `(${[...ids]
            .slice(0, 5)
            .map((id) => `${id} ${cases[Number(id?.slice(6))]?.kind}`)
            .join(', ')}), ` +
          `e.g. ${forwardFailed[0]!.slice(0, 300)}`,
      );
    }
    const notConfirmed = fleet.grep(/outcome not confirmed/, 'workerpool');
    for (const line of notConfirmed.slice(0, 3)) {
      const id = /"messageId":"([^"]+)"/.exec(line)?.[1];
      h.note(`pool: ${cases[Number(id?.slice(6))]?.kind}: ${line.slice(0, 300)}`);
    }
  },
};

/** Per kind of input: how many arrived where, and which ones never arrived (notes). */
function report(
  h: Parameters<Scenario['run']>[0],
  cases: FuzzCase[],
  arrivedAt: Map<number, string>,
): void {
  const kinds = new Map<
    string,
    { sent: number; results: number; invalid: number; missing: number[] }
  >();
  for (const c of cases) {
    const k = kinds.get(c.kind) ?? { sent: 0, results: 0, invalid: 0, missing: [] };
    kinds.set(c.kind, k);
    k.sent++;
    const queue = arrivedAt.get(c.n);
    if (queue === 'results') k.results++;
    else if (queue === 'taskqueue.invalid') k.invalid++;
    else k.missing.push(c.n);
  }
  const lines = [...kinds]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, k]) => {
      const missing =
        k.missing.length > 0
          ? ` MISSING ${k.missing.length} (e.g. ${k.missing.slice(0, 3).join(', ')})`
          : '';
      return `${kind}: ${k.sent} sent, ${k.results} answered, ${k.invalid} parked${missing}`;
    });
  h.say(`by kind of input:\n  ${lines.join('\n  ')}`);
  for (const line of lines.filter((l) => l.includes('MISSING'))) h.note(line);
}
