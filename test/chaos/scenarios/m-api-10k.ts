import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ApiClients, idempotencyKey } from '../harness/api-clients.js';
import type { Harness, Scenario } from '../harness/harness.js';

const TASKS = 10_000;
const WORKERS = 4;
const CLIENTS = 16;
const TOKEN = 'chaos-operator-0123456789abcdef';

/** One row of the store's `tasks` table, as the final check reads it. */
interface TaskRow {
  id: string;
  state: string;
  source: string;
  idempotency_key: string | null;
  finished_at: string | null;
}

/**
 * (m) 10 000 tasks submitted through `taskqueue-api` by 16 HTTP clients, with [tracking] on and
 * the API's SQLite store, while the API daemon, the dispatcher and a working child are killed
 * with SIGKILL and the broker is restarted, each at a fraction of the tasks the API accepted.
 * Submits that fail meanwhile are sent again with the same idempotency key. At the end every id
 * a client got is in the store exactly once, `succeeded`, one row per key, with a result on
 * `results`, and nothing is pending anywhere (the tracker's queue included).
 */
export const scenario: Scenario = {
  name: 'm-api-10k',
  title: `${TASKS} tasks through the API; kill -9 the API, the dispatcher and a child, restart the broker`,
  limitMs: 600_000,
  async run(h) {
    const broker = await h.broker();
    const node = broker.nodes[0]!;
    const tokens = join(h.logDir, 'api.tokens');
    writeFileSync(tokens, `chaos operate ${TOKEN}\n`);
    chmodSync(tokens, 0o600);
    const storeFile = join(h.logDir, 'tasks.db');
    const fleet = h.fleet({
      urls: broker.urls,
      sections: `[echo]\nworkers = ${WORKERS}\n`,
      extra: `[tracking]\nenabled = yes\n\n[api]\nlisten = 127.0.0.1:0\ntokens_file = ${tokens}\nstore = ${storeFile}\n`,
    });
    let api = await fleet.api();
    let dispatcher = await fleet.dispatcher();
    const pool = await fleet.pool('echo', WORKERS);
    // Results are counted per task id: each new id gets the next number.
    const numbers = new Map<string, number>();
    const collector = await h.collect(broker.urls, {
      numberOf: (p) => {
        const id = typeof p.correlationId === 'string' ? p.correlationId : p.messageId;
        if (typeof id !== 'string') return undefined;
        if (!numbers.has(id)) numbers.set(id, numbers.size);
        return numbers.get(id);
      },
    });
    const store = new Database(storeFile, { readonly: true, fileMustExist: true });
    const succeeded = () =>
      (
        store.prepare("SELECT count(*) AS n FROM tasks WHERE state = 'succeeded'").get() as {
          n: number;
        }
      ).n;
    const clients = new ApiClients({
      base: () => `http://127.0.0.1:${api.port}`,
      token: TOKEN,
      type: 'echo',
      count: TASKS,
      concurrency: CLIENTS,
      signal: h.signal,
      say: h.say,
    });
    const started = Date.now();
    clients.start();
    h.say(`${CLIENTS} clients submitting ${TASKS} tasks through the API`);

    /** Seconds from `since` until `value()` grew by 20 past `from` (submits or store). */
    const recovery = async (since: number, from: number, value: () => number) => {
      const ok = await h.waitFor(() => value() >= Math.min(from + 20, TASKS), 120_000);
      return ok ? ((Date.now() - since) / 1000).toFixed(1) : 'never (120 s)';
    };
    const at = (fraction: number) => h.waitFor(() => clients.accepted >= fraction * TASKS, 300_000);
    const figures: string[] = [];
    const report = async (what: string, since: number) => {
      const [submits, tracked] = await Promise.all([
        recovery(since, clients.accepted, () => clients.accepted),
        recovery(since, succeeded(), succeeded),
      ]);
      const line = `${what}: submits accepted again after ${submits} s, the store moving after ${tracked} s`;
      figures.push(line);
      h.say(line);
    };
    const killChild = async (label: string) => {
      const children = fleet.runningChildren(pool);
      if (children.length === 0) return false;
      const victim = h.random.pick(children);
      process.kill(victim, 'SIGKILL');
      const since = Date.now();
      const replaced = await h.waitFor(
        () => fleet.runningChildren(pool).filter((p) => p !== victim).length >= WORKERS,
        60_000,
      );
      if (!replaced) h.fail(`child ${victim} was not replaced within 60 s`);
      const line = `${label}: kill -9 child ${victim} at ${clients.accepted} accepted, ${succeeded()} succeeded; replaced after ${((Date.now() - since) / 1000).toFixed(1)} s`;
      figures.push(line);
      h.say(line);
      return true;
    };

    const timeline: Array<[number, string, () => Promise<boolean>]> = [
      [0.1, 'a child', () => killChild('child')],
      [
        0.25,
        'the API',
        async () => {
          await fleet.kill(api.program);
          const since = Date.now();
          h.say(`killed the API at ${clients.accepted} accepted, ${succeeded()} succeeded`);
          api = await fleet.api();
          h.say(`API started again on port ${api.port} after ${secondsSince(since)} s`);
          await report(`API kill -9 (ready again after ${secondsSince(since)} s)`, since);
          return true;
        },
      ],
      [
        0.45,
        'the dispatcher',
        async () => {
          await fleet.kill(dispatcher);
          const since = Date.now();
          h.say(`killed the dispatcher at ${clients.accepted} accepted, ${succeeded()} succeeded`);
          dispatcher = await fleet.dispatcher();
          await report(
            `dispatcher kill -9 (consuming again after ${secondsSince(since)} s)`,
            since,
          );
          return true;
        },
      ],
      [
        0.65,
        'the broker',
        async () => {
          const since = Date.now();
          h.say(`restarting the broker at ${clients.accepted} accepted, ${succeeded()} succeeded`);
          await node.restart();
          h.say(`broker back after ${secondsSince(since)} s`);
          await report(`broker restart (back after ${secondsSince(since)} s)`, since);
          return true;
        },
      ],
      [0.8, 'a child', () => killChild('child')],
    ];
    await h.repeat(
      'kill or restart',
      { everyMs: 0, max: timeline.length, maxMs: 480_000 },
      async (i) => {
        const [fraction, what, inject] = timeline[i]!;
        if (!(await at(fraction))) {
          h.fail(`${what}: the clients never reached ${fraction * TASKS} accepted tasks`);
          return false;
        }
        return inject();
      },
    );

    await clients.done();
    const submitted = secondsSince(started);
    h.say(`all ${clients.accepted} submits accepted after ${submitted} s`);
    // Until every accepted task is final in the store and its result arrived; give up when
    // nothing moved for 60 s.
    let lastCount = -1;
    let lastMove = Date.now();
    await h.waitFor(() => {
      const count = succeeded() + collector.distinct;
      if (count !== lastCount) {
        lastCount = count;
        lastMove = Date.now();
      }
      const complete = succeeded() >= clients.accepted && collector.distinct >= clients.accepted;
      return complete || Date.now() - lastMove > 60_000;
    }, 300_000);
    const total = secondsSince(started);
    // Duplicates may still be on their way, and the tracker applying the last events.
    await h.waitFor(async () => (await h.pendingQueues()).length === 0, 60_000);
    const pending = await h.pendingQueues();
    if (pending.length > 0)
      h.fail(
        `still pending: ${pending.map((q) => `${q.name} ${q.ready} + ${q.unacked}`).join(', ')}`,
      );
    figures.unshift(
      `${TASKS} tasks: submitted in ${submitted} s, all final in the store after ${total} s`,
    );
    checkOutcome(h, clients, store, numbers, collector);
    await resubmitSome(h, clients);
    store.close();
    for (const line of figures) h.note(line);
    h.note(
      `clients: ${clients.retries} submits sent again (${clients.failureSummary() || 'none failed'}), ` +
        `${clients.repeats} answered "already known"`,
    );
  },
};

function secondsSince(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}

/**
 * "Every one final, none twice": one row per key, the id the clients got, `succeeded`, finished;
 * nothing the API did not hand out; each id's result on `results`, nothing parked as invalid.
 */
function checkOutcome(
  h: Harness,
  clients: ApiClients,
  store: Database.Database,
  numbers: Map<string, number>,
  collector: { has(n: number): boolean; firstQueue: Map<number, string> },
): void {
  for (const [n, why] of [...clients.refused].slice(0, 3)) h.fail(`task ${n} refused: ${why}`);
  for (const conflict of clients.conflicts.slice(0, 3)) h.fail(`two ids for one key: ${conflict}`);
  if (clients.accepted !== TASKS) h.fail(`${clients.accepted} of ${TASKS} submits accepted`);
  const rows = store
    .prepare('SELECT id, state, source, idempotency_key, finished_at FROM tasks')
    .all() as TaskRow[];
  const byKey = new Map(rows.map((row) => [row.idempotency_key, row]));
  if (rows.length !== clients.accepted)
    h.fail(`the store holds ${rows.length} tasks for ${clients.accepted} accepted submits`);
  if (byKey.size !== rows.length) h.fail('the store holds tasks without a key or two for one key');
  const notFinal: string[] = [];
  const wrongId: string[] = [];
  const noResult: string[] = [];
  for (const [n, id] of clients.ids) {
    const row = byKey.get(idempotencyKey(n));
    if (row === undefined || row.id !== id)
      wrongId.push(`${idempotencyKey(n)}: ${id} / ${row?.id}`);
    else if (row.state !== 'succeeded' || row.finished_at === null || row.source !== 'api')
      notFinal.push(`${id} ${row.state} (${row.source})`);
    const number = numbers.get(id);
    if (number === undefined || !collector.has(number)) noResult.push(id);
    else if (collector.firstQueue.get(number) !== 'results')
      h.fail(`task ${id} arrived on ${collector.firstQueue.get(number)}`);
  }
  const handedOut = new Set(clients.ids.values());
  const strangers = [...numbers.keys()].filter((id) => !handedOut.has(id));
  if (wrongId.length > 0)
    h.fail(`keys whose stored id is not the one answered: ${sample(wrongId)}`);
  if (notFinal.length > 0) h.fail(`${notFinal.length} task(s) not succeeded: ${sample(notFinal)}`);
  if (noResult.length > 0)
    h.fail(`${noResult.length} task(s) without a result: ${sample(noResult)}`);
  if (strangers.length > 0)
    h.fail(`${strangers.length} result(s) for ids no client got: ${sample(strangers)}`);
  const unattempted = store
    .prepare(
      'SELECT count(*) AS n FROM tasks t WHERE NOT EXISTS ' +
        '(SELECT 1 FROM attempts a WHERE a.task_id = t.id AND a.ended_at IS NOT NULL)',
    )
    .get() as { n: number };
  if (unattempted.n > 0) h.fail(`${unattempted.n} task(s) without an ended attempt in the store`);
  h.tally = { sent: clients.accepted, lost: notFinal.length + wrongId.length };
}

/** Every 500th key submitted once more: the same id, `created: false`, already succeeded. */
async function resubmitSome(h: Harness, clients: ApiClients): Promise<void> {
  const before = new Map(clients.ids);
  const repeats = clients.repeats;
  let asked = 0;
  for (let n = 0; n < TASKS; n += 500) {
    asked++;
    if ((await clients.submit(n)) !== 'taken')
      h.fail(`resubmitting key ${idempotencyKey(n)} failed`);
    if (clients.ids.get(n) !== before.get(n)) h.fail(`key ${idempotencyKey(n)} changed its id`);
  }
  if (clients.repeats - repeats !== asked)
    h.fail(`${asked} keys resubmitted, ${clients.repeats - repeats} answered "already known"`);
}

function sample(items: string[], max = 5): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} … (${items.length} in all)` : shown;
}
