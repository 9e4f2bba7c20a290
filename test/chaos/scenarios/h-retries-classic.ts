import type { ConsumeMessage } from 'amqplib';
import type { Harness, Scenario } from '../harness/harness.js';
import { header, resultBody, some } from '../harness/results.js';
import { numberedTasks } from '../harness/tasks.js';

const TASKS = 1000;
/** The flaky plugin fails every attempt before its `succeed_on` (default 3). */
const SUCCEED_ON = 3;
/** Exactly the attempts needed: one attempt too few in the pool would end in an error result. */
const MAX_ATTEMPTS = SUCCEED_ON;
const WORKERS = 4;

/**
 * Retries through the broker (SPEC §1 Failure): every task fails twice, then succeeds. Each task
 * must be answered exactly once, by a success on attempt 3 (x-attempts 3, and the plugin's own
 * `succeeded_on` from ctx.attempt), with no error result and nothing left in the retry queues.
 * faults = the failed attempts the plugin made.
 */
export function retriesScenario(name: string, queueType: 'classic' | 'quorum'): Scenario {
  return {
    name,
    title: `${TASKS} tasks failing twice, then succeeding, retried on ${queueType} queues`,
    limitMs: 240_000,
    async run(h) {
      const broker = await h.broker();
      const fleet = h.fleet({
        urls: broker.urls,
        queueType,
        enabled: ['flaky'],
        sections: `[flaky]\nworkers = ${WORKERS}\nmax_attempts = ${MAX_ATTEMPTS}\nretry_delay = 0.2\n`,
      });
      await fleet.dispatcher();
      await fleet.pool('flaky', WORKERS);
      const problems: string[] = [];
      const collector = await h.collect(broker.urls, {
        onFirst: (n, { queue, message }) => problems.push(...check(n, queue, message)),
      });
      h.publish(broker.urls, numberedTasks(TASKS, 'flaky'));
      await h.settle();
      h.faults += fleet.grep(/"msg":"task failed; retry scheduled"/, 'workerpool', 100_000).length;
      report(h, problems, fleet.grep(/"msg":"task failed"/, 'workerpool', 10));
      // No fault but the plugin's own: a second answer to a task would be a bug, not at-least-once.
      if (collector.duplicates > 0)
        h.fail(
          `${collector.duplicates} duplicate result(s): ${some(collector.duplicated().map(([n, c]) => `${n}×${c}`))}`,
        );
      const parked = (await broker.queues()).filter(
        (q) => q.name.endsWith('.dead') && q.messages > 0,
      );
      for (const q of parked) h.fail(`${q.messages} task(s) parked in ${q.name}`);
    },
  };
}

export const scenario = retriesScenario('h-retries-classic', 'classic');

/** What is wrong with the first arrival of task `n` (nothing, for a success on attempt 3). */
function check(n: number, queue: string, message: ConsumeMessage): string[] {
  if (queue !== 'results') return [`task ${n} arrived on ${queue}`];
  const body = resultBody(message);
  if (!body) return [`task ${n}: the result is not a workitem`];
  const problems: string[] = [];
  if (body.error !== undefined) problems.push(`task ${n}: error result ${body.error}`);
  const attempts = header(message, 'x-attempts');
  if (attempts !== SUCCEED_ON) problems.push(`task ${n}: x-attempts ${attempts}`);
  if (body.fields.succeeded_on !== SUCCEED_ON)
    problems.push(`task ${n}: the plugin saw ctx.attempt ${body.fields.succeeded_on}`);
  return problems;
}

function report(h: Harness, problems: string[], finalFailures: string[]): void {
  if (problems.length > 0) h.fail(`${problems.length} wrong result(s): ${some(problems, 5)}`);
  // Exactly one answer per task: a retry must replace the attempt, never add a result.
  if (h.faults !== TASKS * (SUCCEED_ON - 1))
    h.fail(`${h.faults} retries scheduled, ${TASKS * (SUCCEED_ON - 1)} expected`);
  if (finalFailures.length > 0)
    h.fail(`the pool gave up on a task: ${finalFailures[0]!.slice(0, 300)}`);
}
