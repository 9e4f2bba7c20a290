import type { ConsumeMessage } from 'amqplib';
import type { Harness, Scenario } from '../harness/harness.js';
import { header, resultBody, some } from '../harness/results.js';
import { numberedTask, type Outgoing, taskNumber } from '../harness/tasks.js';

const TASKS = 2000;
/** The poison tasks (fields.die: the exit-on-task plugin's child exits 7), spread among the rest. */
const POISON = new Set([400, 1000, 1600]);
const MAX_CRASHES = 3;
const WORKERS = 3;
const TYPE = 'exit-on-task';
const DEAD_QUEUE = `worker_${TYPE}.dead`;

function tasks(): Outgoing[] {
  return Array.from({ length: TASKS }, (_, n) =>
    numberedTask(n, TYPE, POISON.has(n) ? { die: true } : {}),
  );
}

/**
 * Poison tasks (SPEC §1 Crash): a few tasks kill the child that runs them (exit 7). Each must
 * cost exactly max_crashes children, then rest on `worker_<type>.dead` unchanged, with
 * x-taskqueue-crashes 3 and one crash-log line per death naming the exit code, and be answered
 * with an error result; every other task must be answered normally, and the group must keep
 * serving. faults = the children that died.
 */
export function poisonScenario(name: string, queueType: 'classic' | 'quorum'): Scenario {
  return {
    name,
    title: `${POISON.size} poison tasks among ${TASKS - POISON.size} good ones, on ${queueType} queues`,
    limitMs: 240_000,
    async run(h) {
      const sent = tasks();
      const broker = await h.broker();
      const fleet = h.fleet({
        urls: broker.urls,
        queueType,
        enabled: [TYPE],
        sections: `[${TYPE}]\nworkers = ${WORKERS}\nmax_crashes = ${MAX_CRASHES}\n`,
      });
      await fleet.dispatcher();
      await fleet.pool(TYPE, WORKERS);
      const problems: string[] = [];
      const collector = await h.collect(broker.urls, {
        onFirst: (n, { queue, message }) => problems.push(...checkResult(n, queue, message)),
      });
      h.publish(broker.urls, sent);
      await h.settle();
      const deaths = fleet.grep(
        new RegExp(`"group":"${TYPE}".*"to":"exited","cause":"exit code 7"`),
        'workerpool',
      );
      h.faults += deaths.length;
      if (deaths.length !== POISON.size * MAX_CRASHES)
        h.fail(`${deaths.length} children exited 7, ${POISON.size * MAX_CRASHES} expected`);
      if (problems.length > 0) h.fail(`${problems.length} wrong result(s): ${some(problems, 5)}`);
      if (collector.duplicates > 0)
        h.fail(
          `${collector.duplicates} duplicate result(s): ${some(collector.duplicated().map(([n, c]) => `${n}×${c}`))}`,
        );
      checkParked(h, sent, await h.browse(broker.urls, DEAD_QUEUE));
      const failed = fleet.grep(/"code":"TQ_ERR_GROUP_FAILED"/);
      if (failed.length > 0) h.fail(`the pool gave up on the group: ${failed[0]!.slice(0, 300)}`);
    },
  };
}

export const scenario = poisonScenario('j-poison-classic', 'classic');

/** A poison task's answer is an error naming the crashes; any other task's, a success. */
function checkResult(n: number, queue: string, message: ConsumeMessage): string[] {
  if (queue !== 'results') return [`task ${n} arrived on ${queue}`];
  const body = resultBody(message);
  if (!body) return [`task ${n}: the result is not a workitem`];
  if (!POISON.has(n))
    return body.error === undefined ? [] : [`good task ${n}: error ${body.error.slice(0, 200)}`];
  const expected = new RegExp(`^poison: ${MAX_CRASHES} consumers died.*exit code 7`);
  return expected.test(body.error ?? '')
    ? []
    : [`poison task ${n}: error ${body.error?.slice(0, 300) ?? 'none'}`];
}

/** The dead queue holds each poison task once, unchanged, with its crashes in its headers. */
function checkParked(h: Harness, sent: Outgoing[], parked: ConsumeMessage[]): void {
  const numbers = parked.map((m) => taskNumber(m.properties) ?? -1).sort((a, b) => a - b);
  const expected = [...POISON].sort((a, b) => a - b);
  if (numbers.join() !== expected.join())
    h.fail(`${DEAD_QUEUE} holds tasks [${numbers.join(', ')}], not [${expected.join(', ')}]`);
  for (const message of parked) {
    const n = taskNumber(message.properties) ?? -1;
    const crashes = header(message, 'x-taskqueue-crashes');
    const log = header(message, 'x-taskqueue-crash-log');
    const lines = Array.isArray(log) ? log.map(String) : [];
    if (crashes !== MAX_CRASHES) h.fail(`parked task ${n}: x-taskqueue-crashes ${crashes}`);
    if (lines.length !== MAX_CRASHES || !lines.every((l) => /ended with exit code 7/.test(l)))
      h.fail(`parked task ${n}: x-taskqueue-crash-log ${JSON.stringify(log)?.slice(0, 400)}`);
    if (!message.content.equals(sent[n]?.body ?? Buffer.alloc(0)))
      h.fail(`parked task ${n}: its body was changed`);
  }
  if (parked.length > 0) {
    const log = header(parked[0]!, 'x-taskqueue-crash-log');
    h.say(`${DEAD_QUEUE}: ${parked.length} parked, e.g. crash log ${JSON.stringify(log)}`);
  }
}
