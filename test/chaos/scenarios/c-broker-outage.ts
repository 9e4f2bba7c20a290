import type { Scenario } from '../harness/harness.js';
import { numberedTasks } from '../harness/tasks.js';
import { sleep } from '../harness/util.js';

const TASKS = 5000;
const OUTAGE_MS = 10_000;

/**
 * (c) Stop the broker for 10 s in the middle of 5000 tasks. Dispatcher and pool must reconnect
 * by themselves (their connect_retries ride out the outage: see harness/fleet.ts).
 */
export const scenario: Scenario = {
  name: 'c-broker-outage',
  title: `stop the broker for ${OUTAGE_MS / 1000} s in the middle of ${TASKS} tasks`,
  limitMs: 300_000,
  async run(h) {
    const broker = await h.broker();
    const node = broker.nodes[0]!;
    const fleet = h.fleet({ urls: broker.urls, sections: '[echo]\nworkers = 4\n' });
    await fleet.dispatcher();
    await fleet.pool('echo', 4);
    const collector = await h.collect(broker.urls);
    h.publish(broker.urls, numberedTasks(TASKS), { ratePerSecond: 250 });
    await h.repeat('stop the broker', { everyMs: 0, max: 1, maxMs: 120_000 }, async () => {
      if (!(await h.waitFor(() => collector.distinct >= TASKS / 2, 90_000))) return false;
      await node.halt();
      h.say(`broker stopped at ${collector.distinct} results; down for ${OUTAGE_MS / 1000} s`);
      await sleep(OUTAGE_MS, h.signal);
      await node.resume();
      h.say('broker started again');
      return true;
    });
    await h.settle();
    for (const kind of ['dispatcher', 'workerpool'] as const) {
      const lost = fleet.grep(/broker connection lost/, kind).length;
      if (lost === 0) h.note(`${kind} never noticed the outage`);
    }
  },
};
