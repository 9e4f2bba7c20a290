import { isAlive } from '../../support/processes.js';
import type { Scenario } from '../harness/harness.js';
import { numberedTasks } from '../harness/tasks.js';

const TASKS = 5000;

/** (d) Two dispatchers and two pools share the queues; kill -9 one of each mid-run. */
export const scenario: Scenario = {
  name: 'd-kill-one-of-each',
  title: `two dispatchers and two pools, kill -9 one of each during ${TASKS} tasks`,
  limitMs: 300_000,
  async run(h) {
    const broker = await h.broker();
    const fleet = h.fleet({ urls: broker.urls, sections: '[echo]\nworkers = 3\n' });
    const dispatchers = [await fleet.dispatcher(), await fleet.dispatcher()];
    const pools = [await fleet.pool('echo', 3), await fleet.pool('echo', 3)];
    const collector = await h.collect(broker.urls);
    h.publish(broker.urls, numberedTasks(TASKS), { ratePerSecond: 250 });
    const victims = [h.random.pick(dispatchers), h.random.pick(pools)];
    await h.repeat(
      'kill -9 a dispatcher, then a pool',
      { everyMs: 0, max: 2, maxMs: 120_000 },
      async (i) => {
        await h.waitFor(() => collector.distinct >= ((i + 1) * TASKS) / 3, 90_000);
        const victim = victims[i]!;
        const children = victim.name === 'workerpool' ? fleet.children(victim) : [];
        await fleet.kill(victim);
        h.say(`killed ${victim.label} at ${collector.distinct} results`);
        // The children of a pool killed with SIGKILL must go too (their channel to it closes).
        if (children.length > 0) {
          const gone = await h.waitFor(
            () => fleet.children(victim).length === 0 && children.every((p) => !isAlive(p)),
            15_000,
          );
          if (!gone)
            h.fail(
              `children of ${victim.label} outlived it: ${children.filter(isAlive).join(', ')}`,
            );
        }
        return true;
      },
    );
    await h.settle();
  },
};
